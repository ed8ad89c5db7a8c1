/**
 * Numbered migrations, applied in order; `PRAGMA user_version` records the last one applied.
 * Never edit a released migration: add the next number.
 */
import { sql as m0001 } from './0001-init.js';
import { sql as m0002 } from './0002-second-counts.js';
import { sql as m0003 } from './0003-resume-and-idempotency.js';
import { sql as m0004 } from './0004-erasure-and-audit.js';
import { sql as m0005 } from './0005-api-keys.js';
import { sql as m0006 } from './0006-tenants.js';

export const MIGRATIONS: readonly string[] = [m0001, m0002, m0003, m0004, m0005, m0006];
