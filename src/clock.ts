/**
 * @module clock
 * Wall-clock time in microseconds. `performance.timeOrigin + performance.now()` has
 * sub-millisecond resolution, unlike `Date.now()`.
 */
import { performance } from 'node:perf_hooks';
import type { InstantUs } from './domain/timestamp.js';

export type Clock = () => InstantUs;

export const systemClock: Clock = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);
