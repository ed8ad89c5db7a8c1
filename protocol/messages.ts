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

export type SubscribeClientMessage =
  | { type: 'ping' }
  | { type: 'update_filters'; filters: Record<string, unknown> };

export type SubscribeServerMessage =
  | { status: 'subscribed'; subscriber_id: string; filters: FiltersObject }
  | { status: 'filters_updated'; filters: FiltersObject }
  | { status: 'error'; code: string; message: string }
  | { type: 'pong' }
  | { type: 'keepalive' };

export type PublishServerMessage =
  | { status: 'ok'; event_id: string; seq: number }
  | { status: 'error'; code: string; message: string; retry_after?: number };
