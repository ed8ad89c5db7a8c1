/**
 * Prints the configuration table for the README from the one settings schema:
 * `npx tsx scripts/config-table.ts`.
 */
import { SETTINGS } from '../src/config/schema.js';

export function configTable(): string {
  const rows = SETTINGS.map((s) => `| \`${s.env}\` | ${s.default === '' ? '(empty)' : `\`${s.default}\``} | ${s.doc} |`);
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) process.stdout.write(configTable() + '\n');
