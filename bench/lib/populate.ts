/**
 * Fills a SQLite event store with `count` synthetic events (1,000 sessions, 15 types, 3,000
 * students) through the real store adapter, in large durable batches.
 */
import { EVENT_TYPES } from '../../protocol/event-types.js';
import type { EventDraft } from '../../src/domain/event.js';
import { DEFAULT_TENANT } from '../../src/domain/tenant.js';
import { SqliteEventStore } from '../../src/storage/sqlite/sqlite-event-store.js';

export async function populate(path: string, count: number, onProgress: (done: number) => void): Promise<void> {
  const store = new SqliteEventStore({ path, walAutocheckpointPages: 100_000 });
  const start = Date.now() * 1000 - count * 1000;
  const BATCH = 20_000;
  for (let done = 0; done < count; done += BATCH) {
    const drafts: EventDraft[] = [];
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      drafts.push({
        tenant: DEFAULT_TENANT,
        eventType: EVENT_TYPES[i % EVENT_TYPES.length] as EventDraft['eventType'],
        source: 'quiz_engine',
        sessionId: `session-${i % 1000}`,
        userId: `student-${i % 3000}`,
        payloadJson: `{"question_id":"q-${i % 40}","answer":"B","correct":${String(i % 3 === 0)},"time_spent_ms":8500}`,
        receivedAtUs: start + i * 1000,
      });
    }
    await store.append(drafts);
    onProgress(Math.min(count, done + BATCH));
  }
  await store.close();
}
