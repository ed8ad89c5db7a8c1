/**
 * Rate limits across instances: a client spread over two instances of one cluster gets one
 * allowance, not one per instance.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';
import { dropSchema, freshSchema, POSTGRES_URL, postgresMissing, REDIS_URL, redisMissing } from '../support/services.js';

const missing = (await postgresMissing()) ?? (await redisMissing());

test('rate limits are shared through Redis: 10 publishes a minute means 10 over both instances together', { skip: missing }, async () => {
  const schema = freshSchema('limits');
  const env = { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema, REDIS_URL, REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`, RATE_LIMIT_PUBLISH: '10/minute' };
  const nodes: TestServer[] = [];
  try {
    nodes.push(await startServer(env), await startServer(env));
    const [a, b] = nodes as [TestServer, TestServer];
    const statuses = async (srv: TestServer, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await postEvent(srv.url, event())).status);
      return out;
    };
    assert.deepEqual(await statuses(a, 6), [201, 201, 201, 201, 201, 201]);
    // Give the instances a few sync intervals to exchange what they took.
    await new Promise((r) => setTimeout(r, 400));
    const onB = await statuses(b, 8);
    const accepted = onB.filter((s) => s === 201).length;
    assert.ok(accepted >= 4 && accepted <= 5, `b accepted ${accepted} of 8 (10 a minute in all, 6 used on a; one may refill)`);
    assert.ok(onB.includes(429));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await postEvent(a.url, event())).status, 429, "a learned b's use too");
  } finally {
    for (const n of nodes) await n.stop();
    await dropSchema(schema);
  }
});
