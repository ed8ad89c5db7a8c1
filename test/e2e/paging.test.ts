import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

interface Wire {
  id: string;
  seq: number;
  timestamp: string;
}

async function page(path: string): Promise<{ events: Wire[]; next: string | undefined }> {
  const r = await fetch(`${srv.url}${path}`);
  assert.equal(r.status, 200, path);
  const link = r.headers.get('link');
  const next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
  return { events: (await r.json()) as Wire[], next };
}

test('paging - follow Link headers forward through the whole history, then tail it', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 23; i++) ids.push(((await (await postEvent(srv.url, event({ session_id: 'walk', payload: { i } }))).json()) as Wire).id);
  const seen: string[] = [];
  let path = '/api/v1/events?session_id=walk&after_seq=0&limit=5';
  for (let pages = 0; pages < 20; pages++) {
    const p = await page(path);
    if (p.events.length === 0) break;
    seen.push(...p.events.map((e) => e.id));
    assert.ok(p.next !== undefined, 'ascending pages always link onward');
    path = p.next;
  }
  assert.deepEqual(seen, ids, 'oldest first, every event once');
  // The last link is a tail: a new event shows up on it.
  const fresh = (await (await postEvent(srv.url, event({ session_id: 'walk' }))).json()) as Wire;
  assert.deepEqual((await page(path)).events.map((e) => e.id), [fresh.id]);
});

test('paging - backward with before_seq; default stays newest first with no cursor needed', async () => {
  const all = (await page('/api/v1/events?session_id=walk&limit=1000')).events;
  assert.ok(all.every((e, i) => i === 0 || e.seq < all[i - 1]!.seq), 'compatible default: newest first');
  const first = await page('/api/v1/events?session_id=walk&limit=10');
  assert.ok(first.next !== undefined);
  assert.match(first.next, /before_seq=\d+/);
  const second = await page(first.next);
  assert.deepEqual(second.events.map((e) => e.id), all.slice(10, 20).map((e) => e.id));
  const tail = await page(`/api/v1/events?session_id=walk&limit=10&before_seq=${all[all.length - 3]!.seq}`);
  assert.equal(tail.events.length, 2);
  assert.equal(tail.next, undefined, 'a short descending page is the end');
});

test('paging - until is inclusive, order is validated, cursors must be whole numbers', async () => {
  const all = (await page('/api/v1/events?session_id=walk&order=asc&limit=1000')).events;
  const cut = all[4]!;
  const upTo = (await page(`/api/v1/events?session_id=walk&order=asc&limit=1000&until=${encodeURIComponent(cut.timestamp)}`)).events;
  assert.ok(upTo.some((e) => e.id === cut.id));
  assert.ok(upTo.every((e) => e.timestamp <= cut.timestamp));
  assert.equal((await fetch(`${srv.url}/api/v1/events?order=sideways`)).status, 422);
  assert.equal((await fetch(`${srv.url}/api/v1/events?after_seq=-1`)).status, 422);
  assert.equal((await fetch(`${srv.url}/api/v1/events?before_seq=x`)).status, 422);
  assert.equal((await fetch(`${srv.url}/api/v1/events?until=soon`)).status, 400);
});
