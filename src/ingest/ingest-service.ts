/**
 * @module ingest/ingest-service
 * validate → store → publish, for every transport. Sees the store and bus ports, never an
 * adapter; REST and WebSocket handlers are thin callers of {@link IngestService.publish}.
 *
 * Two kinds of event skip parts of that path: a retry under a known idempotency key is answered
 * with the event first stored (`duplicate: true`) and neither stored nor delivered again; an
 * event of an ephemeral type is delivered live with a null `seq` and never stored.
 */
import type { EventType } from '../../protocol/event-types.js';
import type { Clock } from '../clock.js';
import type { EventDraft, EventId, EventJson, LiveEvent, Seq, ValidateEvent } from '../domain/event.js';
import { PipelineError } from '../domain/errors.js';
import type { Bus } from '../bus/bus.js';
import type { PipelineCounters } from '../stats/counters.js';
import type { EventStore } from '../storage/event-store.js';
import type { TenantId } from '../domain/tenant.js';
import { CommitBatcher, type SubmitResult } from './commit-batcher.js';
import { IDEMPOTENCY_FIELD, readIdempotencyKey, tag } from './idempotency.js';

/** What a producer is told about an accepted event. */
export interface Accepted {
  readonly id: EventId;
  /** Null for an ephemeral event, which is never stored. */
  readonly seq: Seq | null;
  /** The event's wire form, as stored (for a duplicate: as first stored). */
  readonly json: EventJson;
  /** True when an idempotency key matched an event stored earlier: nothing new was stored. */
  readonly duplicate: boolean;
}

/** One item of a batch publish: accepted, or refused with the reason. */
export type BatchItemResult = { status: 'ok'; accepted: Accepted } | { status: 'error'; error: PipelineError };

/** Events in one batch publish, over REST or WebSocket. */
export const MAX_BATCH_EVENTS = 1000;

/** The batch-size rule, for transports to apply before they charge the rate limiter. */
export function assertBatchSize(count: number, locRoot = 'body'): void {
  if (count <= MAX_BATCH_EVENTS) return;
  throw new PipelineError('REQUEST_INVALID', `A batch holds at most ${MAX_BATCH_EVENTS} events, not ${count}`, {
    issues: [{ type: 'too_long', loc: [locRoot], msg: `List should have at most ${MAX_BATCH_EVENTS} items, not ${count}` }],
  });
}

/** A publish acknowledgement as the wire has it (WebSocket replies and batch items). */
export function ackToWire(a: Accepted): Record<string, unknown> {
  return a.duplicate ? { status: 'ok', event_id: a.id, seq: a.seq, duplicate: true } : { status: 'ok', event_id: a.id, seq: a.seq };
}

/** A batch result as the wire has it. */
export function batchResultToWire(r: BatchItemResult): Record<string, unknown> {
  return r.status === 'ok'
    ? ackToWire(r.accepted)
    : { status: 'error', detail: r.error.issues ?? [{ type: r.error.code, loc: [], msg: r.error.message }] };
}

/** The event object a REST publish answers with: the stored one, marked when it is a duplicate. */
export function acceptedBody(a: Accepted): string {
  return a.duplicate ? a.json.slice(0, -1) + ',"duplicate":true}' : a.json;
}

/** The same error with each issue's location moved under the item's index. */
function atIndex(err: PipelineError, locRoot: string, index: number): PipelineError {
  const issues = (err.issues ?? [{ type: err.code, loc: [locRoot], msg: err.message }]).map((i) => ({ ...i, loc: [locRoot, index, ...i.loc.slice(1)] }));
  return new PipelineError(err.code, err.message, { issues });
}

function shuttingDown(): PipelineError {
  return new PipelineError('SERVER_SHUTTING_DOWN', 'Server is shutting down');
}

function toAccepted(r: SubmitResult, locRoot: string): Accepted {
  switch (r.kind) {
    case 'stored':
    case 'live':
      return { id: r.event.id, seq: r.event.seq, json: r.event.json, duplicate: false };
    case 'duplicate':
      return { id: r.event.id, seq: r.event.seq, json: r.event.json, duplicate: true };
    case 'conflict':
      throw new PipelineError('IDEMPOTENCY_KEY_CONFLICT', 'This idempotency key was already used for a different event', {
        issues: [{ type: 'idempotency_conflict', loc: [locRoot, IDEMPOTENCY_FIELD], msg: 'This idempotency key was already used for a different event' }],
      });
  }
}

export interface IngestDeps {
  store: EventStore;
  bus: Bus;
  validate: ValidateEvent;
  counters: PipelineCounters;
  clock: Clock;
  /** Types delivered live and never stored. */
  ephemeralTypes?: ReadonlySet<EventType>;
}

export class IngestService {
  readonly #validate: ValidateEvent;
  readonly #clock: Clock;
  readonly #batcher: CommitBatcher;
  #accepting = true;

  constructor(deps: IngestDeps) {
    this.#validate = deps.validate;
    this.#clock = deps.clock;
    const ephemeral = deps.ephemeralTypes ?? new Set();
    this.#batcher = new CommitBatcher(
      deps.store,
      (events: readonly LiveEvent[]) => {
        let stored = 0;
        for (const e of events) if (e.seq !== null) stored++;
        deps.counters.accepted(events.length);
        deps.counters.ephemeral += events.length - stored;
        deps.bus.publish(events);
      },
      { isEphemeral: (d) => ephemeral.has(d.eventType) },
    );
  }

  /** Validates the event and its idempotency key (`headerKey`, else the input's field). */
  #draft(tenant: TenantId, input: unknown, receivedAtUs: number, locRoot: string, headerKey?: string): EventDraft | PipelineError {
    const key = readIdempotencyKey(input, headerKey, headerKey === undefined ? [locRoot, IDEMPOTENCY_FIELD] : ['header', 'Idempotency-Key']);
    if (key instanceof PipelineError) return key;
    const draft = this.#validate(input, tenant, receivedAtUs, locRoot);
    return draft instanceof PipelineError ? draft : tag(draft, key);
  }

  /**
   * Validates and stores one event of `tenant` (the publisher's). Resolves once it is durable and handed to delivery (or,
   * for a duplicate, with the event first stored); rejects with a PipelineError (invalid input,
   * idempotency conflict, shutting down, storage unavailable).
   */
  async publish(tenant: TenantId, input: unknown, locRoot = 'body', idempotencyKey?: string): Promise<Accepted> {
    if (!this.#accepting) throw shuttingDown();
    const draft = this.#draft(tenant, input, this.#clock(), locRoot, idempotencyKey);
    if (draft instanceof PipelineError) throw draft;
    return toAccepted(await this.#batcher.submit(draft), locRoot);
  }

  /**
   * Validates every item; stores the valid ones together in one commit, in order. Resolves with
   * one result per item, in order; rejects only when the commit itself fails.
   */
  async publishBatch(tenant: TenantId, items: readonly unknown[], locRoot = 'body'): Promise<BatchItemResult[]> {
    if (!this.#accepting) throw shuttingDown();
    assertBatchSize(items.length, locRoot);
    const receivedAt = this.#clock();
    const checked = items.map((item, i) => {
      const c = item instanceof PipelineError ? item : this.#draft(tenant, item, receivedAt, locRoot);
      return c instanceof PipelineError ? atIndex(c, locRoot, i) : c;
    });
    const drafts = checked.filter((c): c is EventDraft => !(c instanceof PipelineError));
    const results = await this.#batcher.submitGroup(drafts);
    let next = 0;
    return checked.map((c, i): BatchItemResult => {
      if (c instanceof PipelineError) return { status: 'error', error: c };
      try {
        return { status: 'ok', accepted: toAccepted(results[next++] as SubmitResult, locRoot) };
      } catch (err) {
        return { status: 'error', error: atIndex(err as PipelineError, locRoot, i) };
      }
    });
  }

  /** Events received and not yet committed. */
  get pending(): number {
    return this.#batcher.pending;
  }

  /** Refuses new events, then resolves when every accepted one is committed and published. */
  async stop(): Promise<void> {
    this.#accepting = false;
    await this.#batcher.drain();
  }
}
