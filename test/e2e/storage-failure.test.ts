import assert from 'node:assert/strict';
import { test } from 'node:test';
import { event, postEvent, startServer } from '../support/server.js';

test('storage unusable: readiness says 503, publishes answer 503 (never 500), health stays up', async () => {
  const srv = await startServer();
  try {
    assert.equal((await fetch(`${srv.url}/readiness`)).status, 200);
    await srv.app.store.close();
    const ready = await fetch(`${srv.url}/readiness`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { ready: boolean }).ready, false);
    const pub = await postEvent(srv.url, event());
    assert.equal(pub.status, 503);
    assert.equal(pub.headers.get('x-error-code'), 'STORAGE_UNAVAILABLE');
    assert.equal((await fetch(`${srv.url}/api/v1/events`)).status, 503);
    assert.equal((await fetch(`${srv.url}/health`)).status, 200);
  } finally {
    await srv.stop().catch(() => undefined);
  }
});
