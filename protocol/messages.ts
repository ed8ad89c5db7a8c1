/**
 * @module protocol/messages
 * WebSocket frames exchanged on `/ws/publish` and `/ws/subscribe`. Control frames from the
 * client are a discriminated union on `type`; a first subscribe message without `type` is the
 * filter configuration (the original protocol), kept for compatibility.
 */

/** Wire shape of an event as every API returns and delivers it (keys in this order). */
export interface EventObject {
  id: string;
  event_type: string;
  source: string;
  session_id: string | null;
  user_id: string | null;
  payload: Record<string, unknown>;
  timestamp: string;
  seq: number;
}

/** Filters as the server echoes them back after normalising. */
export interface FiltersObject {
  event_types: string[];
  session_id: string | null;
  user_id: string | null;
}

/** Where a subscription starts: after a `seq`, at a time, at the oldest stored event, or now (default). */
export type FromPosition = number | { time: string } | 'earliest' | 'latest';

export type SubscribeClientMessage =
  | { type: 'ping' }
  /** `filters` may carry `from` to restart delivery from that position with the new filters. */
  | { type: 'update_filters'; filters: Record<string, unknown> & { from?: FromPosition } };

export type SubscribeServerMessage =
  /** `head_seq`: the newest `seq` committed when the subscription began. */
  | { status: 'subscribed'; subscriber_id: string; filters: FiltersObject; head_seq: number }
  | { status: 'filters_updated'; filters: FiltersObject }
  /** Catch-up finished: every matching event up to `seq` was sent; live events follow. */
  | { type: 'caught_up'; seq: number }
  /**
   * The requested position could not be served (`history_deleted`: events after it are gone;
   * `cursor_ahead`: it is beyond the newest `seq`). Delivery continues as if `from` had been asked.
   */
  | { type: 'reset'; reason: 'history_deleted' | 'cursor_ahead'; requested: unknown; from: number; head_seq: number }
  | { status: 'error'; code: string; message: string }
  | { type: 'pong' }
  | { type: 'keepalive' };

export type PublishServerMessage =
  | { status: 'ok'; event_id: string; seq: number | null; duplicate?: true }
  | { status: 'error'; code: string; message: string; retry_after?: number };
