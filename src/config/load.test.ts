import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './load.js';

test('config - defaults: loopback, port 8001, SQLite at ./data/events.db', () => {
  const c = loadConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8001);
  assert.equal(c.databasePath, './data/events.db');
  assert.equal(c.eventStore, 'sqlite');
  assert.deepEqual(c.rateLimitPublish, { count: 1000, windowMs: 1000 });
  assert.deepEqual(c.corsOrigins, []);
  assert.ok(Object.isFrozen(c));
});

test('config - the original formats: rate limits, booleans, origins', () => {
  const c = loadConfig({ RATE_LIMIT_PUBLISH: '200/minute', RATE_LIMIT_QUERY: 'off', REQUIRE_AUTH: 'True', API_KEY: 'k', CORS_ORIGINS: 'https://a.example, https://b.example', LOG_LEVEL: 'WARNING' });
  assert.deepEqual(c.rateLimitPublish, { count: 200, windowMs: 60_000 });
  assert.equal(c.rateLimitQuery, null);
  assert.equal(c.requireAuth, true);
  assert.deepEqual(c.corsOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(c.logLevel, 'warning');
});

test('config - every problem is reported at once, naming the variable', () => {
  assert.throws(
    () => loadConfig({ PORT: '70000', RATE_LIMIT_ADMIN: 'lots', REQUIRE_AUTH: 'maybe', EVENT_STORE: 'oracle' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => p.split(':')[0]),
        ['PORT', 'EVENT_STORE', 'REQUIRE_AUTH', 'RATE_LIMIT_ADMIN'],
      );
      return true;
    },
  );
});

test('config - cross-checks: body limit above payload limit, JWT settings complete and consistent', () => {
  // Auth on without the shared key is valid: scoped keys and JWTs are the credentials then.
  assert.equal(loadConfig({ REQUIRE_AUTH: 'true' }).apiKey, null);
  const secret = 'x'.repeat(32);
  assert.throws(() => loadConfig({ JWT_SECRET: secret }), /JWT_ISSUER: JWT_ISSUER and JWT_AUDIENCE must both be set/);
  assert.throws(() => loadConfig({ JWT_SECRET: 'short' }), /JWT_SECRET: must be at least 32 characters/);
  assert.throws(() => loadConfig({ JWT_PUBLIC_KEY: 'not a key', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }), /JWT_PUBLIC_KEY: not a PEM public key/);
  assert.equal(loadConfig({ JWT_SECRET: secret, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }).jwtIssuer, 'i');
  assert.throws(() => loadConfig({ MAX_BODY_BYTES: '65536' }), /MAX_BODY_BYTES: must be larger than MAX_PAYLOAD_BYTES/);
});

test('config - a non-loopback bind with auth off refuses to start, unless ALLOW_INSECURE=true', () => {
  assert.throws(() => loadConfig({ HOST: '0.0.0.0' }), /HOST: 0\.0\.0\.0 is reachable from other machines and REQUIRE_AUTH is off/);
  assert.throws(() => loadConfig({ HOST: '10.1.2.3' }), /ALLOW_INSECURE=true/);
  assert.equal(loadConfig({ HOST: '0.0.0.0', ALLOW_INSECURE: 'true' }).host, '0.0.0.0');
  assert.equal(loadConfig({ HOST: '0.0.0.0', REQUIRE_AUTH: 'true', API_KEY: 'k' }).host, '0.0.0.0');
  for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) assert.equal(loadConfig({ HOST: host }).host, host);
});

test('config - TRUSTED_PROXIES takes IP addresses only', () => {
  assert.deepEqual(loadConfig({ TRUSTED_PROXIES: '127.0.0.1, ::1' }).trustedProxies, ['127.0.0.1', '::1']);
  assert.throws(() => loadConfig({ TRUSTED_PROXIES: 'proxy.internal' }), /TRUSTED_PROXIES: not IP addresses: proxy.internal/);
});
