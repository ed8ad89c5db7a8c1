import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, ERROR_HTTP_STATUS, ERROR_RETRYABLE } from '../protocol/error-codes.js';
import { SETTINGS } from '../src/config/schema.js';
import { configTable } from '../scripts/config-table.js';

const root = new URL('../', import.meta.url);

test('docs - docs/errors.md lists exactly the codes in the catalogue, with their status and retry flag', () => {
  const page = readFileSync(new URL('docs/errors.md', root), 'utf8');
  const rows = [...page.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (yes|no) \|/gm)].map((m) => [m[1], Number(m[2]), m[3] === 'yes']);
  assert.deepEqual(
    rows,
    ERROR_CODES.map((c) => [c, ERROR_HTTP_STATUS[c], ERROR_RETRYABLE[c]]),
  );
});

test('docs - the README configuration table is the one generated from the settings schema', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  assert.ok(readme.includes(configTable()), 'regenerate with: npx tsx scripts/config-table.ts');
  for (const s of SETTINGS) assert.ok(readme.includes(`\`${s.env}\``), s.env);
});
