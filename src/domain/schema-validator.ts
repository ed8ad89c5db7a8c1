/**
 * @module domain/schema-validator
 * Compiles JSON Schemas (built with TypeBox, the same objects that OpenAPI publishes) into
 * validators that report problems as FastAPI-style issues: one per failed field, `loc`
 * starting with where the value came from (`body`, `query`, `filters`).
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import type { ValidationIssue } from './errors.js';

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });

export type Validate<T> = (value: unknown, locRoot: string) => { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** `messages` overrides the message for a property, by ajv keyword (e.g. `enum`). */
export function compileValidator<S extends TSchema>(
  schema: S,
  messages: Record<string, Partial<Record<string, (value: unknown) => string>>> = {},
): Validate<Static<S>> {
  const check = ajv.compile(schema);
  return (value, locRoot) => {
    if (check(value)) return { ok: true, value: value as Static<S> };
    return { ok: false, issues: toIssues(check.errors ?? [], value, locRoot, messages) };
  };
}

function toIssues(
  errors: ErrorObject[],
  root: unknown,
  locRoot: string,
  messages: Record<string, Partial<Record<string, (value: unknown) => string>>>,
): ValidationIssue[] {
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const e of errors) {
    const path = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map(unescapePointer);
    if (e.keyword === 'required') path.push((e.params as { missingProperty: string }).missingProperty);
    const key = path.join('/');
    // One issue per field: a wrong type also fails `enum`/`pattern`; the first says it best.
    if (seen.has(key)) continue;
    seen.add(key);
    const field = path[0] ?? '';
    const value = valueAt(root, path);
    const override = messages[field]?.[e.keyword];
    const [type, msg] = override === undefined ? describe(e) : [e.keyword, override(value)];
    issues.push({ type, loc: [locRoot, ...path.map((p) => (/^\d+$/.test(p) ? Number(p) : p))], msg });
  }
  return issues;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function valueAt(root: unknown, path: string[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** Pydantic-compatible error types and messages for the keywords our schemas use. */
function describe(e: ErrorObject): [string, string] {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return ['missing', 'Field required'];
    case 'type': {
      const t = Array.isArray(p['type']) ? (p['type'] as string[]).filter((x) => x !== 'null')[0] : p['type'];
      if (t === 'string') return ['string_type', 'Input should be a valid string'];
      if (t === 'object') return ['dict_type', 'Input should be a valid dictionary'];
      if (t === 'array') return ['list_type', 'Input should be a valid list'];
      if (t === 'integer') return ['int_type', 'Input should be a valid integer'];
      return [`${String(t)}_type`, `Input should be a valid ${String(t)}`];
    }
    case 'minLength':
      return ['string_too_short', `String should have at least ${String(p['limit'])} character${p['limit'] === 1 ? '' : 's'}`];
    case 'maxLength':
      return ['string_too_long', `String should have at most ${String(p['limit'])} characters`];
    case 'pattern':
      return ['string_pattern_mismatch', `String should match pattern '${String(p['pattern'])}'`];
    case 'maxProperties':
      return ['too_many_keys', `Object should have at most ${String(p['limit'])} keys`];
    case 'maxItems':
      return ['too_long', `List should have at most ${String(p['limit'])} items`];
    case 'minimum':
      return ['greater_than_equal', `Input should be greater than or equal to ${String(p['limit'])}`];
    case 'maximum':
      return ['less_than_equal', `Input should be less than or equal to ${String(p['limit'])}`];
    case 'enum':
      return ['enum', `Input should be one of: ${(p['allowedValues'] as unknown[]).map(String).join(', ')}`];
    default:
      return [e.keyword, e.message ?? 'Invalid value'];
  }
}
