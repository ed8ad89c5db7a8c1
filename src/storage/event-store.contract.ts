/**
 * The behaviour every EventStore adapter must show. Each adapter's test file calls
 * {@link eventStoreContract} with a factory, then adds its own cases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seqOfEventJson, type EventDraft, type StoredEvent } from '../domain/event.js';
import { DEFAULT_TENANT } from '../domain/tenant.js';
import type { EventQuery, EventStore, IdGenerator } from './event-store.js';

export type StoreFactory = (options: { newId?: IdGenerator }) => Promise<{ store: EventStore; cleanup: () => Promise<void> }>;

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0) * 1000;
export const TENANT = DEFAULT_TENANT;

export function draft(overrides: Partial<EventDraft> = {}): EventDraft {
  return { tenant: TENANT, eventType: 'answer_submitted', source: 'quiz', sessionId: 's1', userId: 'u1', payloadJson: '{"q":1}', receivedAtUs: T0, ...overrides };
}

/** Appends drafts that carry no idempotency key: every one is stored. */
export async function appendAll(store: EventStore, drafts: readonly EventDraft[]): Promise<StoredEvent[]> {
  return (await store.append(drafts)).map((r) => {
    assert.equal(r.kind, 'stored');
    return (r as { event: StoredEvent }).event;
  });
}

async function withStore(factory: StoreFactory, fn: (store: EventStore) => Promise<void>, options: { newId?: IdGenerator } = {}): Promise<void> {
  const { store, cleanup } = await factory(options);
  try {
    await fn(store);
  } finally {
    await cleanup();
  }
}

export function eventStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} - event store contract`, () => {
    test('append assigns strictly increasing seq in order, starting after the head', () =>
      withStore(factory, async (store) => {
        assert.equal(store.headSeq(), 0);
        const a = await appendAll(store, [draft(), draft()]);
        const b = await appendAll(store, [draft()]);
        assert.deepEqual([...a, ...b].map((e) => e.seq), [1, 2, 3]);
        assert.equal(store.headSeq(), 3);
      }));

    test('stored events carry their wire JSON with id, timestamp and seq', () =>
      withStore(factory, async (store) => {
        const [e] = await appendAll(store, [draft({ payloadJson: '{"a":[1,2]}' })]);
        assert.ok(e);
        const wire = JSON.parse(e.json) as Record<string, unknown>;
        assert.equal(wire['id'], e.id);
        assert.match(e.id, /^evt_[0-9a-f]{12}$/);
        assert.deepEqual(wire['payload'], { a: [1, 2] });
        assert.equal(wire['timestamp'], '2026-01-15T10:00:00.000000Z');
        assert.equal(wire['seq'], e.seq);
        assert.deepEqual(await store.getById(TENANT, e.id), e);
        assert.equal(await store.getById(TENANT, 'evt_ffffffffffff'), undefined);
      }));

    test('a colliding id is redrawn and the event is kept (D5)', () => {
      const ids = ['evt_aaaaaaaaaaaa', 'evt_aaaaaaaaaaaa', 'evt_aaaaaaaaaaaa', 'evt_bbbbbbbbbbbb', 'evt_bbbbbbbbbbbb', 'evt_cccccccccccc'];
      let i = 0;
      const newId = () => ids[Math.min(i++, ids.length - 1)] as string;
      return withStore(
        factory,
        async (store) => {
          const first = await appendAll(store, [draft()]);
          const second = await appendAll(store, [draft(), draft()]);
          assert.deepEqual([...first, ...second].map((e) => e.id), ['evt_aaaaaaaaaaaa', 'evt_bbbbbbbbbbbb', 'evt_cccccccccccc']);
          assert.equal((await store.query({ tenant: TENANT, limit: 10 })).length, 3);
        },
        { newId },
      );
    });

    test('timestamps never decrease in seq order, even when the clock steps back', () =>
      withStore(factory, async (store) => {
        const out = await appendAll(store, [draft({ receivedAtUs: T0 + 10 }), draft({ receivedAtUs: T0 + 5 }), draft({ receivedAtUs: T0 + 20 })]);
        assert.deepEqual(out.map((e) => e.timestampUs), [T0 + 10, T0 + 10, T0 + 20]);
      }));

    test('query filters by type, session and user, newest first, with a limit', () =>
      withStore(factory, async (store) => {
        await appendAll(store, [
          draft({ eventType: 'quiz_started', sessionId: 's1', userId: 'u1' }),
          draft({ eventType: 'answer_submitted', sessionId: 's1', userId: 'u2' }),
          draft({ eventType: 'answer_submitted', sessionId: 's2', userId: 'u1' }),
          draft({ eventType: 'answer_submitted', sessionId: null, userId: null }),
        ]);
        const seqs = async (q: Omit<EventQuery, 'tenant'>) => (await store.query({ tenant: TENANT, ...q })).map(seqOfEventJson);
        assert.deepEqual(await seqs({ limit: 100 }), [4, 3, 2, 1]);
        assert.deepEqual(await seqs({ limit: 2 }), [4, 3]);
        assert.deepEqual(await seqs({ limit: 100, eventType: 'answer_submitted' }), [4, 3, 2]);
        assert.deepEqual(await seqs({ limit: 100, sessionId: 's1' }), [2, 1]);
        assert.deepEqual(await seqs({ limit: 100, userId: 'u1' }), [3, 1]);
        assert.deepEqual(await seqs({ limit: 100, userId: 'u1', sessionId: 's1', eventType: 'quiz_started' }), [1]);
      }));

    test('since is exclusive and compares instants, not text (D3)', () =>
      withStore(factory, async (store) => {
        await appendAll(store, [draft({ receivedAtUs: T0 }), draft({ receivedAtUs: T0 + 1 }), draft({ receivedAtUs: T0 + 1_000_000 })]);
        assert.deepEqual((await store.query({ tenant: TENANT, limit: 10, sinceUs: T0 })).map(seqOfEventJson), [3, 2]);
        assert.deepEqual((await store.query({ tenant: TENANT, limit: 10, sinceUs: T0 - 1 })).map(seqOfEventJson), [3, 2, 1]);
        assert.deepEqual((await store.query({ tenant: TENANT, limit: 10, sinceUs: T0 + 1_000_000 })).map(seqOfEventJson), []);
      }));

    test('cursors: after/before seq, until, ascending order, combined with filters', () =>
      withStore(factory, async (store) => {
        const S = 1_000_000;
        await appendAll(store, 
          Array.from({ length: 10 }, (_, i) => draft({ sessionId: i % 2 === 0 ? 'even' : 'odd', receivedAtUs: T0 + Math.floor(i / 2) * S })),
        );
        const seqs = async (q: Omit<EventQuery, 'tenant'>) => (await store.query({ tenant: TENANT, ...q })).map(seqOfEventJson);
        assert.deepEqual(await seqs({ limit: 3, order: 'asc' }), [1, 2, 3]);
        assert.deepEqual(await seqs({ limit: 3, order: 'asc', afterSeq: 3 }), [4, 5, 6]);
        assert.deepEqual(await seqs({ limit: 3, beforeSeq: 4 }), [3, 2, 1]);
        assert.deepEqual(await seqs({ limit: 10, afterSeq: 2, beforeSeq: 6 }), [5, 4, 3]);
        assert.deepEqual(await seqs({ limit: 10, order: 'asc', sessionId: 'even', afterSeq: 3 }), [5, 7, 9]);
        // Timestamps: pairs share a second (T0, T0+S, …); since is exclusive, until inclusive.
        assert.deepEqual(await seqs({ limit: 10, order: 'asc', sinceUs: T0, untilUs: T0 + 2 * S }), [3, 4, 5, 6]);
        assert.deepEqual(await seqs({ limit: 10, untilUs: T0 - 1 }), []);
        assert.deepEqual(await seqs({ limit: 2, order: 'asc', sinceUs: T0 + S, sessionId: 'odd' }), [6, 8]);
        // Walking forward page by page visits every event once.
        const walked: number[] = [];
        for (let after = 0; ; ) {
          const page = await seqs({ limit: 4, order: 'asc', afterSeq: after });
          if (page.length === 0) break;
          walked.push(...page);
          after = page[page.length - 1]!;
        }
        assert.deepEqual(walked, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      }));

    test('stats count per type, newest last_seen, and events since an instant (D1)', () =>
      withStore(factory, async (store) => {
        await appendAll(store, [
          draft({ eventType: 'quiz_started', receivedAtUs: T0 }),
          draft({ eventType: 'answer_submitted', receivedAtUs: T0 + 1 }),
          draft({ eventType: 'answer_submitted', receivedAtUs: T0 + 2 }),
        ]);
        const s = await store.stats(TENANT, T0);
        assert.equal(s.totalEvents, 3);
        assert.equal(s.eventsSince, 2);
        assert.deepEqual(s.byType, [
          { eventType: 'answer_submitted', count: 2, lastSeenUs: T0 + 2 },
          { eventType: 'quiz_started', count: 1, lastSeenUs: T0 },
        ]);
      }));

    test('events since an instant stay exact across seconds and after partial deletes (D1)', () =>
      withStore(factory, async (store) => {
        const S = 1_000_000;
        const times = [0, 1, S - 1, S, S + 5, 2 * S + 7, 3 * S, 3 * S + 999_999, 5 * S].map((d) => T0 + d);
        await appendAll(store, times.map((t) => draft({ receivedAtUs: t })));
        const expectSince = async (since: number) =>
          assert.equal((await store.stats(TENANT, since)).eventsSince, times.filter((t) => t > since).length, `since T0+${since - T0}`);
        for (const probe of [T0 - 1, T0, T0 + 1, T0 + S - 1, T0 + S, T0 + S + 4, T0 + 3 * S, T0 + 4 * S, T0 + 6 * S]) await expectSince(probe);
        await store.deleteBefore(TENANT, T0 + S + 3);
        const left = times.filter((t) => t >= T0 + S + 3);
        assert.equal((await store.stats(TENANT, 0)).eventsSince, left.length);
        assert.equal((await store.stats(TENANT, T0 + S)).eventsSince, left.filter((t) => t > T0 + S).length);
        assert.equal((await store.stats(TENANT, T0 + 2 * S + 7)).eventsSince, left.filter((t) => t > T0 + 2 * S + 7).length);
      }));

    test('deleteBefore removes older events and keeps per-type counts exact (D4)', () =>
      withStore(factory, async (store) => {
        await appendAll(store, [
          draft({ eventType: 'quiz_started', receivedAtUs: T0 }),
          draft({ eventType: 'answer_submitted', receivedAtUs: T0 + 10 }),
          draft({ eventType: 'answer_submitted', receivedAtUs: T0 + 20 }),
          draft({ eventType: 'quiz_completed', receivedAtUs: T0 + 30 }),
        ]);
        assert.equal(await store.deleteBefore(TENANT, T0 + 20), 2);
        const s = await store.stats(TENANT, 0);
        assert.equal(s.totalEvents, 2);
        assert.deepEqual(s.byType, [
          { eventType: 'answer_submitted', count: 1, lastSeenUs: T0 + 20 },
          { eventType: 'quiz_completed', count: 1, lastSeenUs: T0 + 30 },
        ]);
        assert.deepEqual((await store.query({ tenant: TENANT, limit: 10 })).map(seqOfEventJson), [4, 3]);
        assert.equal(await store.deleteBefore(TENANT, T0), 0);
      }));

    test('deleting everything never lets a seq be reused', () =>
      withStore(factory, async (store) => {
        await appendAll(store, [draft(), draft()]);
        const [gone] = await store.query({ tenant: TENANT, limit: 1 });
        assert.equal(await store.deleteBefore(TENANT), 2);
        assert.equal((await store.stats(TENANT, 0)).totalEvents, 0);
        assert.equal(await store.getById(TENANT, (JSON.parse(gone!) as { id: string }).id), undefined);
        const [next] = await appendAll(store, [draft()]);
        assert.equal(next?.seq, 3);
      }));

    test('idempotency keys: a retry is a duplicate of the first event, another event under the key a conflict, also within one batch', () =>
      withStore(factory, async (store) => {
        const keyed = (key: string, payloadJson = '{"q":1}'): EventDraft => draft({ payloadJson, idempotency: { key, fingerprint: payloadJson } });
        const [first] = await appendAll(store, [keyed('k1')]);
        const results = await store.append([keyed('k1'), keyed('k1', '{"q":2}'), keyed('k2'), keyed('k2'), keyed('k2', '{"q":3}')]);
        assert.deepEqual(results.map((r) => r.kind), ['duplicate', 'conflict', 'stored', 'duplicate', 'conflict']);
        const dup = results[0];
        assert.ok(dup?.kind === 'duplicate');
        assert.deepEqual(dup.event, { seq: first?.seq, id: first?.id, json: first?.json });
        const k2 = results[2];
        const k2dup = results[3];
        assert.ok(k2?.kind === 'stored' && k2dup?.kind === 'duplicate');
        assert.equal(k2dup.event.seq, k2.event.seq);
        assert.equal((await store.stats(TENANT, 0)).totalEvents, 2, 'duplicates and conflicts store nothing');
        assert.equal(store.headSeq(), 2, 'and use no seq');
      }));

    test('idempotency keys outlive a delete of their event, until pruned', () =>
      withStore(factory, async (store) => {
        const keyed = draft({ receivedAtUs: T0, idempotency: { key: 'k', fingerprint: 'f' } });
        const [first] = await appendAll(store, [keyed]);
        await store.deleteBefore(TENANT);
        const [again] = await store.append([keyed]);
        assert.ok(again?.kind === 'duplicate');
        assert.equal(again.event.id, first?.id);
        assert.equal(await store.pruneIdempotencyKeys(T0), 0, 'keys newer than the cut stay');
        assert.equal(await store.pruneIdempotencyKeys(T0 + 1), 1);
        const [fresh] = await store.append([keyed]);
        assert.equal(fresh?.kind, 'stored');
      }));

    test('the horizon records how far deletes reached, and only grows', () =>
      withStore(factory, async (store) => {
        assert.deepEqual(await store.horizon(TENANT), { purgedSeq: 0, purgedUntilUs: 0 });
        await appendAll(store, [draft({ receivedAtUs: T0 }), draft({ receivedAtUs: T0 + 10 }), draft({ receivedAtUs: T0 + 20 })]);
        await store.deleteBefore(TENANT, T0 + 5);
        assert.deepEqual(await store.horizon(TENANT), { purgedSeq: 1, purgedUntilUs: T0 });
        await store.deleteBefore(TENANT, T0 + 5);
        assert.deepEqual(await store.horizon(TENANT), { purgedSeq: 1, purgedUntilUs: T0 }, 'a delete that removes nothing moves nothing');
        await store.deleteBefore(TENANT);
        assert.deepEqual(await store.horizon(TENANT), { purgedSeq: 3, purgedUntilUs: T0 + 20 });
      }));

    test('queries by any of several types', () =>
      withStore(factory, async (store) => {
        await appendAll(store, [draft({ eventType: 'quiz_started' }), draft({ eventType: 'answer_submitted' }), draft({ eventType: 'quiz_completed' })]);
        const got = await store.query({ tenant: TENANT, eventTypes: ['quiz_started', 'quiz_completed'], order: 'asc', limit: 10 });
        assert.deepEqual(got.map(seqOfEventJson), [1, 3]);
        assert.equal((await store.query({ tenant: TENANT, eventTypes: [], limit: 10 })).length, 3, 'an empty list means any type');
      }));

    test('erasing a user removes their events, counts and idempotency copies, and is audited', () =>
      withStore(factory, async (store) => {
        const keyed = draft({ userId: 'u1', receivedAtUs: T0 + 1, idempotency: { key: 'u1-k', fingerprint: 'f' } });
        const stored = await appendAll(store, [
          draft({ userId: 'u1', eventType: 'quiz_started', receivedAtUs: T0 }),
          keyed,
          draft({ userId: 'u2', eventType: 'quiz_started', receivedAtUs: T0 + 2 }),
          draft({ userId: 'u1', eventType: 'quiz_completed', receivedAtUs: T0 + 3 }),
        ]);
        assert.equal(await store.eraseUser(TENANT, 'u1', { actor: 'admin-key', atUs: T0 + 10 }), 3);
        assert.deepEqual((await store.query({ tenant: TENANT, userId: 'u1', limit: 10 })).length, 0);
        assert.equal(await store.getById(TENANT, stored[0]?.id ?? ''), undefined);
        const stats = await store.stats(TENANT, T0 - 1);
        assert.equal(stats.totalEvents, 1);
        assert.equal(stats.eventsSince, 1);
        assert.deepEqual(stats.byType, [{ eventType: 'quiz_started', count: 1, lastSeenUs: T0 + 2 }]);
        const [again] = await store.append([keyed]);
        assert.equal(again?.kind, 'stored', 'the retry copy of the erased event is gone too');
        await store.deleteBefore(TENANT, T0 + 3, { actor: 'ops', atUs: T0 + 20, action: 'delete_events' });
        const audit = await store.listAudit(TENANT, 10);
        assert.deepEqual(
          audit.map((a) => [a.action, a.actor, a.target, a.count]),
          [
            ['delete_events', 'ops', '2026-01-15T10:00:00.000003Z', 1],
            ['erase_user', 'admin-key', 'u1', 3],
          ],
        );
        assert.deepEqual((await store.listAudit(TENANT, 10, audit[0]?.id)).map((a) => a.action), ['erase_user']);
      }));

    test('tenants never meet: reads, ids, counts, keys, deletes, horizons, erasure and audit are per tenant', () =>
      withStore(factory, async (store) => {
        const A = 'school-a';
        const B = 'school-b';
        // The same sessions, users and idempotency key in both tenants.
        const a = (o: Partial<EventDraft> = {}): EventDraft => draft({ tenant: A, sessionId: 's', userId: 'u', ...o });
        const b = (o: Partial<EventDraft> = {}): EventDraft => draft({ tenant: B, sessionId: 's', userId: 'u', ...o });
        const key = { key: 'same-key', fingerprint: 'f' };
        const results = await store.append([
          a({ receivedAtUs: T0, idempotency: key }),
          b({ receivedAtUs: T0 + 1, idempotency: key }),
          a({ receivedAtUs: T0 + 2, eventType: 'quiz_started' }),
          b({ receivedAtUs: T0 + 3 }),
        ]);
        assert.deepEqual(results.map((r) => r.kind), ['stored', 'stored', 'stored', 'stored'], "one tenant's key is not another's");
        const [a1, b1, a2, b2] = results.map((r) => (r as { event: StoredEvent }).event) as [StoredEvent, StoredEvent, StoredEvent, StoredEvent];
        const seqs = async (tenant: string, q: Omit<EventQuery, 'tenant' | 'limit'> = {}) =>
          (await store.query({ tenant, limit: 100, order: 'asc', ...q })).map(seqOfEventJson);
        for (const q of [{}, { sessionId: 's' }, { userId: 'u' }, { eventTypes: ['answer_submitted', 'quiz_started'] as const }, { sinceUs: T0 - 1 }, { afterSeq: 0 }]) {
          assert.deepEqual(await seqs(A, q), [a1.seq, a2.seq], JSON.stringify(q));
          assert.deepEqual(await seqs(B, q), [b1.seq, b2.seq], JSON.stringify(q));
        }
        assert.deepEqual(await seqs(A, { eventType: 'answer_submitted' }), [a1.seq]);
        assert.deepEqual(await seqs(B, { eventType: 'answer_submitted' }), [b1.seq, b2.seq]);
        assert.deepEqual(await seqs('school-c'), []);
        assert.equal((await store.getById(A, a1.id))?.id, a1.id);
        assert.equal(await store.getById(B, a1.id), undefined, "another tenant's id is a missing one");
        assert.equal((await store.getById(A, a1.id))?.tenant, A);
        const statsA = await store.stats(A, T0 - 1);
        assert.deepEqual([statsA.totalEvents, statsA.eventsSince, statsA.byType.map((t) => [t.eventType, t.count])], [2, 2, [['answer_submitted', 1], ['quiz_started', 1]]]);
        assert.deepEqual((await store.stats(B, T0 - 1)).totalEvents, 2);
        const [retry] = await store.append([b({ receivedAtUs: T0 + 4, idempotency: key })]);
        assert.ok(retry?.kind === 'duplicate' && retry.event.id === b1.id, 'a retry finds its own tenant\'s event');

        // A delete in A removes A's prefix only, and moves only A's horizon.
        assert.equal(await store.deleteBefore(A, T0 + 10, { actor: 'a-admin', atUs: T0 + 20, action: 'delete_events' }), 2);
        assert.deepEqual(await seqs(A), []);
        assert.deepEqual(await seqs(B), [b1.seq, b2.seq]);
        assert.deepEqual(await store.horizon(A), { purgedSeq: a2.seq, purgedUntilUs: a2.timestampUs });
        assert.deepEqual(await store.horizon(B), { purgedSeq: 0, purgedUntilUs: 0 });
        assert.equal((await store.stats(B, T0 - 1)).totalEvents, 2);
        // Erasing user u in A touches nothing of B's u.
        await appendAll(store, [a({ receivedAtUs: T0 + 30 })]);
        assert.equal(await store.eraseUser(A, 'u', { actor: 'a-admin', atUs: T0 + 40 }), 1);
        assert.deepEqual(await seqs(B, { userId: 'u' }), [b1.seq, b2.seq]);
        const [stillB] = await store.append([b({ receivedAtUs: T0 + 41, idempotency: key })]);
        assert.equal(stillB?.kind, 'duplicate', "B's key survives A's erasure of the same user id");
        assert.deepEqual((await store.listAudit(A, 10)).map((r) => [r.action, r.tenant]), [['erase_user', A], ['delete_events', A]]);
        assert.deepEqual(await store.listAudit(B, 10), []);

        // Retention spans every tenant, audited in each tenant that lost events.
        assert.equal(await store.deleteBefore(null, T0 + 1_000_000, { actor: 'retention', atUs: T0 + 50, action: 'retention_purge' }), 2);
        assert.deepEqual(await seqs(B), []);
        assert.deepEqual(await store.horizon(B), { purgedSeq: b2.seq, purgedUntilUs: b2.timestampUs });
        assert.deepEqual((await store.listAudit(B, 10)).map((r) => [r.action, r.count]), [['retention_purge', 2]]);
        assert.equal((await store.listAudit(A, 10)).length, 2, 'A lost nothing to retention: no record');
      }));

    test('tail reads every tenant after a seq, oldest first; readHeadSeq is the head', () =>
      withStore(factory, async (store) => {
        await appendAll(store, [draft({ tenant: 'a' }), draft({ tenant: 'b' }), draft({ tenant: 'a' }), draft({ tenant: 'c' })]);
        assert.deepEqual((await store.tail(1, 2)).map((e) => [e.seq, e.tenant]), [[2, 'b'], [3, 'a']]);
        assert.deepEqual((await store.tail(0, 100)).map((e) => e.seq), [1, 2, 3, 4]);
        assert.equal((await store.tail(0, 1))[0]?.json, (await store.getById('a', (await store.tail(0, 1))[0]!.id))?.json);
        assert.equal(await store.readHeadSeq(), 4);
        await store.deleteBefore('b');
        assert.deepEqual((await store.tail(0, 100)).map((e) => e.seq), [1, 3, 4], 'deleted events leave holes');
      }));

    test('after close every call rejects', () =>
      withStore(factory, async (store) => {
        await store.close();
        await assert.rejects(store.append([draft()]), /closed/);
        await assert.rejects(store.ping(), /closed/);
      }));
  });
}
