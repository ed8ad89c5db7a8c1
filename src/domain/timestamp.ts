/**
 * @module domain/timestamp
 * Instants are integers of microseconds since the Unix epoch (exact in a double until the
 * year 2255). On the wire they are ISO 8601 UTC with exactly six fractional digits and a `Z`,
 * so every timestamp has the same width and text order equals time order.
 */

/** Microseconds since 1970-01-01T00:00:00Z. */
export type InstantUs = number;

const pad2 = (n: number): string => (n < 10 ? '0' : '') + String(n);

export function formatInstant(us: InstantUs): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const micros = us - Math.floor(us / 1_000_000) * 1_000_000;
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`instant out of range: ${us}`);
  return (
    String(year).padStart(4, '0') +
    '-' +
    pad2(d.getUTCMonth() + 1) +
    '-' +
    pad2(d.getUTCDate()) +
    'T' +
    pad2(d.getUTCHours()) +
    ':' +
    pad2(d.getUTCMinutes()) +
    ':' +
    pad2(d.getUTCSeconds()) +
    '.' +
    String(micros).padStart(6, '0') +
    'Z'
  );
}

// Date, optional time (T or space), optional fraction (any length), optional offset.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
// A `+` in an unencoded query string arrives as a space: "…10:00:00 02:00".
const SPACE_FOR_PLUS = /^(.*\d)( )(\d{2}(?::?\d{2})?)$/;

/**
 * Parses ISO 8601 (date, or date and time with optional fraction and offset) into an instant.
 * A value without an offset is UTC. Returns undefined when the text is not a valid instant.
 */
export function parseInstant(text: string): InstantUs | undefined {
  let m = ISO_8601.exec(text);
  if (m === null) {
    const plus = SPACE_FOR_PLUS.exec(text);
    if (plus?.[1]?.includes('T') === true) m = ISO_8601.exec(`${plus[1]}+${plus[3] ?? ''}`);
    if (m === null) return undefined;
  }
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  let offsetMinutes = 0;
  if (offset !== 'Z' && offset !== 'z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const micros = Number(frac.padEnd(6, '0').slice(0, 6));
  return (ms - offsetMinutes * 60_000) * 1000 + micros;
}
