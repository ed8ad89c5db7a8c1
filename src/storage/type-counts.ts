/**
 * @module storage/type-counts
 * Sorting rule for per-type stats, shared by every adapter so `/stats` reads the same.
 */
import type { TypeCount } from './event-store.js';

export function sortTypeCounts(counts: TypeCount[]): TypeCount[] {
  return counts.sort((a, b) => b.count - a.count || (a.eventType < b.eventType ? -1 : a.eventType > b.eventType ? 1 : 0));
}
