import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInstant, parseInstant } from './timestamp.js';

test('timestamp - always six fractional digits and Z, also on a whole second (D2)', () => {
  const whole = Date.UTC(2026, 0, 15, 10, 30, 45) * 1000;
  assert.equal(formatInstant(whole), '2026-01-15T10:30:45.000000Z');
  assert.equal(formatInstant(whole + 7), '2026-01-15T10:30:45.000007Z');
  assert.equal(formatInstant(whole + 123_456), '2026-01-15T10:30:45.123456Z');
  assert.equal(formatInstant(whole).length, formatInstant(whole + 999_999).length);
});

test('timestamp - text order equals time order', () => {
  const base = Date.UTC(2026, 5, 1) * 1000;
  const instants = [0, 1, 999_999, 1_000_000, 59_999_999, 86_400_000_000].map((d) => base + d);
  const texts = instants.map(formatInstant);
  assert.deepEqual([...texts].sort(), texts);
});

test('timestamp - parses offsets as instants (D3)', () => {
  const utc = parseInstant('2026-01-15T10:00:00Z');
  assert.equal(parseInstant('2026-01-15T12:00:00+02:00'), utc);
  assert.equal(parseInstant('2026-01-15T05:30:00-0430'), utc);
  assert.equal(parseInstant('2026-01-15T10:00:00'), utc, 'no offset means UTC');
  assert.equal(parseInstant('2026-01-15 10:00:00Z'), utc);
  assert.equal(parseInstant('2026-01-15T10:00Z'), utc);
  assert.equal(parseInstant('2026-01-15'), Date.UTC(2026, 0, 15) * 1000);
});

test('timestamp - keeps microseconds and accepts long fractions (31+ characters)', () => {
  const us = parseInstant('2026-01-15T10:00:00.123456789+00:00');
  assert.equal(us, Date.UTC(2026, 0, 15, 10) * 1000 + 123_456);
  assert.equal(parseInstant('2026-01-15T10:00:00.5Z'), Date.UTC(2026, 0, 15, 10) * 1000 + 500_000);
});

test('timestamp - a + that arrived as a space in a query string is read as +', () => {
  assert.equal(parseInstant('2026-01-15T12:00:00 02:00'), parseInstant('2026-01-15T10:00:00Z'));
});

test('timestamp - rejects what is not an instant', () => {
  for (const bad of ['', 'yesterday', '2026-13-01', '2026-02-30', '2026-01-15T25:00:00Z', '2026-01-15T10:00:00+25:00', '1700000000', '2026-01-15T10:00:00ZZ']) {
    assert.equal(parseInstant(bad), undefined, bad);
  }
});

test('timestamp - round-trips what it formats', () => {
  const us = Date.UTC(2031, 11, 31, 23, 59, 59) * 1000 + 42;
  assert.equal(parseInstant(formatInstant(us)), us);
});
