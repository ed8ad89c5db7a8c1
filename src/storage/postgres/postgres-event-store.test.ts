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

describe('postgres: seq is commit order', { skip: missing }, () => {
  test('16 writers with random delays inside their transactions and a reader tailing by seq: no event is ever skipped (20,000 events)', async () => {
    const schema = freshSchema('race');
    const TOTAL = 20_000;
    const writers = await Promise.all(
      Array.from({ length: 16 }, () =>
        PostgresEventStore.open({
          url: POSTGRES_URL,
          schema,
          maxConnections: 2,
          // Hold the transaction open a random while after numbering its events: with a plain
          // sequence, a later number would commit first and the reader would pass this one by.
          beforeCommit: () => new Promise((r) => setTimeout(r, Math.random() * 2)),
        }),
      ),
    );
    const reader = await PostgresEventStore.open({ url: POSTGRES_URL, schema, maxConnections: 1 });
    try {
      let remaining = TOTAL;
      const acked: number[] = [];
      const write = async (w: PostgresEventStore): Promise<void> => {
        while (remaining > 0) {
          const n = Math.min(remaining, 1 + Math.floor(Math.random() * 8));
          remaining -= n;
          for (const e of await appendAll(w, Array.from({ length: n }, () => draft()))) acked.push(e.seq);
        }
      };
      let cursor = 0;
      let skipped = 0;
      let reads = 0;
      const state = { writing: true };
      const tailing = (async () => {
        for (;;) {
          const done = !state.writing;
          const page = await reader.tail(cursor, 1000);
          reads++;
          for (const e of page) {
            // Nothing is ever deleted here, so the next event must be the very next seq.
            if (e.seq !== cursor + 1) skipped += e.seq - cursor - 1;
            cursor = e.seq;
          }
          if (page.length === 0) {
            if (done) return;
            await new Promise((r) => setTimeout(r, 1));
          }
        }
      })();
      try {
        await Promise.all(writers.map(write));
      } finally {
        state.writing = false;
        remaining = 0;
        await tailing;
      }
      assert.equal(acked.length, TOTAL);
      assert.deepEqual([...acked].sort((a, b) => a - b), Array.from({ length: TOTAL }, (_, i) => i + 1), 'every seq used once');
      assert.equal(skipped, 0, 'the tailing reader skipped events');
      assert.equal(cursor, TOTAL);
      assert.ok(reads > 50, `the reader tailed while writers wrote (${reads} reads)`);
    } finally {
      await Promise.all([...writers, reader].map((s) => s.close()));
      await dropSchema(schema);
    }
  });
});

describe('postgres: commands', { skip: missing }, () => {
  test('npm run migrate applies pending migrations once; the keys command works on PostgreSQL', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const schema = freshSchema('cmd');
    const env = { ...process.env, DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema };
    const root = new URL('../../../', import.meta.url).pathname;
    try {
      assert.match((await run(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], { cwd: root, env })).stdout, /applied migrations 1/);
      assert.match((await run(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], { cwd: root, env })).stdout, /schema up to date/);
      const created = await run(process.execPath, ['--import', 'tsx', 'src/cli/keys.ts', 'create', '--name', 'svc', '--scopes', 'read', '--tenant', 'district-9'], { cwd: root, env });
      const id = (JSON.parse(created.stdout.slice(0, created.stdout.lastIndexOf('}') + 1)) as { id: string }).id;
      const store = await PostgresEventStore.open({ url: POSTGRES_URL, schema });
      try {
        const rows = (await store.pool.query<{ tenant: string }>('SELECT tenant FROM api_keys WHERE id = $1', [id])).rows;
        assert.deepEqual(rows, [{ tenant: 'district-9' }]);
      } finally {
        await store.close();
      }
    } finally {
      await dropSchema(schema);
    }
  });
});
