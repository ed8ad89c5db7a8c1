import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, shouldReconnect } from './close-codes.js';

test('close codes - reconnect range 4000-4499 and going-away; terminal range 4500-4999', () => {
  assert.ok(shouldReconnect(CloseCode.GOING_AWAY));
  assert.ok(shouldReconnect(CloseCode.SLOW_CONSUMER));
  assert.ok(shouldReconnect(CloseCode.INTERNAL_ERROR));
  assert.ok(shouldReconnect(CloseCode.TOO_MANY_SUBSCRIBERS));
  assert.ok(shouldReconnect(CloseCode.TOKEN_EXPIRED));
  assert.ok(shouldReconnect(CloseCode.TOO_MANY_CONNECTIONS));
  assert.ok(!shouldReconnect(CloseCode.SUBSCRIBE_TIMEOUT));
  assert.ok(!shouldReconnect(CloseCode.AUTH_TIMEOUT));
  assert.ok(!shouldReconnect(CloseCode.AUTH_FAILED));
  assert.ok(!shouldReconnect(CloseCode.CREDENTIAL_REVOKED));
  assert.ok(!shouldReconnect(CloseCode.MESSAGE_TOO_BIG));
  for (const code of Object.values(CloseCode)) {
    if (code >= 4000) assert.ok(code < 5000, `${code} is in the application range`);
  }
});

test('close codes - the README documents every code', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const code of Object.values(CloseCode)) assert.match(readme, new RegExp(`\\| \`${code}\` \\|`), String(code));
});
