import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateWindow } from './rate-window.js';

test('rate window - reports complete seconds only, over 1, 10 and 60 s', () => {
  let now = 1_000_000;
  const w = new RateWindow(60, () => now);
  w.add(5);
  assert.equal(w.perSecond(1), 0, 'the current second is not complete');
  now += 1000;
  assert.equal(w.perSecond(1), 5);
  for (let s = 0; s < 9; s++) {
    w.add(10);
    now += 1000;
  }
  assert.equal(w.perSecond(1), 10);
  assert.equal(w.perSecond(10), (5 + 90) / 10);
  now += 120_000;
  assert.equal(w.perSecond(60), 0, 'old seconds fall out of the window');
});
