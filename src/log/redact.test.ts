import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutPassword } from './redact.js';

test('redact: connection URLs lose their password, keep the rest', () => {
  assert.equal(withoutPassword('postgres://app:s3cr3t@db.internal:5432/events'), 'postgres://app:(set)@db.internal:5432/events');
  assert.equal(withoutPassword('redis://:hunter2@cache:6379'), 'redis://:(set)@cache:6379');
  assert.equal(withoutPassword('postgres://postgres@127.0.0.1:5432/test'), 'postgres://postgres@127.0.0.1:5432/test');
  assert.equal(withoutPassword(null), null);
  assert.equal(withoutPassword('not a url with secret'), '(set)');
});
