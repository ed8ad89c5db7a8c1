import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CredentialSessions, type EndReason } from './credential-sessions.js';
import type { Principal } from './principal.js';

const principal = (tenant: string, actor: string, expiresAtMs: number | null = null): Principal => ({
  actor,
  tenant,
  scopes: new Set(['subscribe']),
  sessions: null,
  users: null,
  publishAs: null,
  expiresAtMs,
});

test('credential sessions: revoke ends every open connection of that credential in that tenant only, once', () => {
  const sessions = new CredentialSessions();
  const ended: string[] = [];
  const track = (p: Principal, name: string): (() => void) => sessions.track(p, (r: EndReason) => ended.push(`${name}:${r}`));
  track(principal('a', 'key:1'), 'a1-first');
  track(principal('a', 'key:1'), 'a1-second');
  const untrackGone = track(principal('a', 'key:1'), 'a1-closed');
  track(principal('b', 'key:1'), 'b1');
  track(principal('a', 'key:2'), 'a2');
  untrackGone();
  assert.equal(sessions.revoke('a', 'key:1'), 2);
  assert.deepEqual(ended.sort(), ['a1-first:credential_revoked', 'a1-second:credential_revoked']);
  assert.equal(sessions.revoke('a', 'key:3'), 0);
});

test('credential sessions: a token ends at its expiry; untracking first cancels it', async () => {
  const sessions = new CredentialSessions();
  const ended: EndReason[] = [];
  sessions.track(principal('a', 'jwt:t', Date.now() + 30), (r) => ended.push(r));
  const untrack = sessions.track(principal('a', 'jwt:u', Date.now() + 30), () => assert.fail('untracked'));
  untrack();
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(ended, ['token_expired']);
});

test('credential sessions: a sweep ends the connections of credentials no longer valid', async () => {
  const sessions = new CredentialSessions();
  const ended: string[] = [];
  sessions.track(principal('a', 'key:good'), () => ended.push('good'));
  sessions.track(principal('a', 'key:gone'), () => ended.push('gone-1'));
  sessions.track(principal('a', 'key:gone'), () => ended.push('gone-2'));
  const asked: string[] = [];
  const n = await sessions.sweep((p) => {
    asked.push(p.actor);
    return Promise.resolve(p.actor !== 'key:gone');
  });
  assert.equal(n, 2);
  assert.deepEqual(ended.sort(), ['gone-1', 'gone-2']);
  assert.deepEqual(asked.sort(), ['key:gone', 'key:good'], 'each credential asked once');
  assert.equal(sessions.size, 3, 'ended connections stay tracked until their transport closes and untracks them');
});
