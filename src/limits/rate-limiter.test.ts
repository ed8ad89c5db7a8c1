import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './rate-limiter.js';

test('rate limiter - allows the count per window, then says when to retry', () => {
  let now = 0;
  const rl = new RateLimiter({ publish: { count: 3, windowMs: 60_000 }, query: null, admin: null }, () => now);
  for (let i = 0; i < 3; i++) assert.deepEqual(rl.take('a', 'publish'), { ok: true });
  assert.deepEqual(rl.take('a', 'publish'), { ok: false, retryAfterSeconds: 20 });
  assert.deepEqual(rl.take('b', 'publish'), { ok: true }, 'one client never slows another');
  now = 20_000;
  assert.deepEqual(rl.take('a', 'publish'), { ok: true });
  assert.equal(rl.take('a', 'publish').ok, false);
});

test('rate limiter - classes are separate and null means unlimited', () => {
  const rl = new RateLimiter({ publish: { count: 1, windowMs: 1000 }, query: null, admin: { count: 1, windowMs: 1000 } }, () => 0);
  assert.ok(rl.take('a', 'publish').ok);
  assert.ok(rl.take('a', 'admin').ok);
  for (let i = 0; i < 1000; i++) assert.ok(rl.take('a', 'query').ok);
  assert.equal(rl.take('a', 'publish').ok, false);
});

test('rate limiter - Retry-After is at least one second', () => {
  const rl = new RateLimiter({ publish: { count: 1000, windowMs: 1000 }, query: null, admin: null }, () => 0);
  for (let i = 0; i < 1000; i++) rl.take('a', 'publish');
  assert.deepEqual(rl.take('a', 'publish'), { ok: false, retryAfterSeconds: 1 });
});
