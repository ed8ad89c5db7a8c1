import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { dropSchema, freshSchema, POSTGRES_URL, postgresMissing } from '../../../test/support/services.js';
import { appendAll, draft, eventStoreContract } from '../event-store.contract.js';
import { PostgresEventStore } from './postgres-event-store.js';

const missing = await postgresMissing();

if (missing === undefined) {
  eventStoreContract('postgres', async (options) => {
    const schema = freshSchema('contract');
    const store = await PostgresEventStore.open({ url: POSTGRES_URL, schema, ...options });
    return {
      store,
      cleanup: async () => {
        await store.close().catch(() => undefined);
        await dropSchema(schema);
      },
    };
  });
}

describe('postgres event store', { skip: missing }, () => {
  let schema = '';
  before(() => {
    schema = freshSchema('shared');
  });

  test('instances sharing a database share one seq and one head; migrations run once', async () => {
    const [a, b] = await Promise.all([PostgresEventStore.open({ url: POSTGRES_URL, schema }), PostgresEventStore.open({ url: POSTGRES_URL, schema })]);
    try {
      const x = await appendAll(a, [draft(), draft()]);
      const y = await appendAll(b, [draft()]);
      assert.deepEqual([...x, ...y].map((e) => e.seq), [1, 2, 3]);
      assert.equal(await a.readHeadSeq(), 3);
      assert.equal(a.headSeq(), 3, 'reading the head refreshes the cached one');
      assert.deepEqual((await b.tail(0, 10)).map((e) => e.seq), [1, 2, 3]);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });
});
