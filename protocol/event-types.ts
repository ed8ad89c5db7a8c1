/**
 * @module protocol/event-types
 * The fifteen event types every producer and consumer agrees on, in the order the API lists
 * them. Names are exact and case-sensitive.
 */

/** Type name → one-line description, in the published order. */
export const EVENT_TYPE_DESCRIPTIONS = {
  quiz_started: 'Student began a quiz session',
  quiz_completed: 'Student submitted/finished the quiz',
  quiz_timeout: 'Quiz timer expired',
  answer_submitted: 'Student submitted an answer',
  answer_changed: 'Student revised their answer',
  question_viewed: 'Student navigated to a question',
  question_skipped: 'Student skipped a question',
  timer_started: 'Session timer began',
  timer_tick: 'Timer update (every second)',
  timer_warning: 'Warning threshold reached',
  mastery_updated: 'Student mastery level changed',
  learning_gap_detected: 'Learning gap identified',
  session_created: 'New session initialized',
  session_ended: 'Session terminated',
  error_occurred: 'System error recorded',
} as const;

/** One of the fifteen event type names. */
export type EventType = keyof typeof EVENT_TYPE_DESCRIPTIONS;

export const EVENT_TYPES = Object.keys(EVENT_TYPE_DESCRIPTIONS) as readonly EventType[];

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && EVENT_TYPE_SET.has(value);
}
