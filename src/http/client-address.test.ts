import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { clientAddressResolver } from './client-address.js';

const req = (remoteAddress: string, xff?: string): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

test('client address - without trusted proxies X-Forwarded-For is ignored', () => {
  const of = clientAddressResolver([]);
  assert.equal(of(req('10.0.0.5', '1.2.3.4')), '10.0.0.5');
  assert.equal(of(req('::ffff:10.0.0.5')), '10.0.0.5');
});

test('client address - behind a trusted proxy the rightmost untrusted hop is the client; forged left entries are not believed', () => {
  const of = clientAddressResolver(['10.0.0.1', '10.0.0.2']);
  assert.equal(of(req('10.0.0.1', '203.0.113.7')), '203.0.113.7');
  assert.equal(of(req('::ffff:10.0.0.1', '6.6.6.6, 203.0.113.7, 10.0.0.2')), '203.0.113.7');
  assert.equal(of(req('10.0.0.1')), '10.0.0.1', 'no header: the proxy itself');
  assert.equal(of(req('10.0.0.1', 'not-an-ip')), '10.0.0.1', 'garbage: the proxy itself');
  assert.equal(of(req('198.51.100.9', '203.0.113.7')), '198.51.100.9', 'an untrusted peer cannot choose its address');
});
