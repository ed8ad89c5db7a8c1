/**
 * @module cli/keys
 * `npm run keys -- <command>`: manage scoped API keys in the database the server uses
 * (`DATABASE_PATH`), with or without the server running.
 *
 *   create --name <name> --scopes publish,subscribe[,read,admin] [--tenant <id>]   prints the key once
 *   list                                                          every key, never a secret
 *   revoke <key id>                                               stops it working at once
 */
import { parseArgs } from 'node:util';
import { mintApiKey, SqliteApiKeyStore, type ApiKeyStore } from '../auth/api-keys.js';
import { PostgresApiKeyStore } from '../storage/postgres/postgres-api-key-store.js';
import { PostgresEventStore } from '../storage/postgres/postgres-event-store.js';
import { keyToWire, parseNewKey } from '../auth/key-requests.js';
import { DEFAULT_TENANT, SCOPES } from '../auth/principal.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { SqliteEventStore } from '../storage/sqlite/sqlite-event-store.js';

const USAGE = `Usage: npm run keys -- <command>
  create --name <name> --scopes <${SCOPES.join(',')}> [--tenant <id>]
                                             create a key (default tenant: ${DEFAULT_TENANT}); it is printed once
  list                                       list keys (ids, names, scopes; never secrets)
  revoke <key id>                            revoke a key
The database is DATABASE_URL (PostgreSQL) when set, else DATABASE_PATH (default ./data/events.db).`;

class UsageError extends Error {}

async function run(argv: string[], out: (line: string) => void): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, tenant: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    out(USAGE);
    return;
  }
  const config = loadConfig();
  if (config.eventStore === 'memory') throw new UsageError('EVENT_STORE=memory keeps keys in the server process only: use the admin API (POST /api/v1/admin/keys)');
  // Opening the event store applies any pending migrations, the key table's included.
  let keys: ApiKeyStore;
  let pg: PostgresEventStore | undefined;
  if (config.databaseUrl !== null) {
    pg = await PostgresEventStore.open({ url: config.databaseUrl, ...(config.databaseSchema === null ? {} : { schema: config.databaseSchema }), maxConnections: 1 });
    keys = new PostgresApiKeyStore(pg.pool);
  } else {
    await new SqliteEventStore({ path: config.databasePath, checkpointIntervalMs: 0 }).close();
    keys = new SqliteApiKeyStore(config.databasePath);
  }
  try {
    switch (command) {
      case 'create': {
        const parsed = parseNewKey({ name: values.name, scopes: (values.scopes ?? '').split(',').filter((s) => s !== ''), tenant: values.tenant ?? DEFAULT_TENANT });
        if (Array.isArray(parsed)) throw new UsageError(parsed.map((i) => `--${String(i.loc[1])}: ${i.msg}`).join('\n'));
        const { record, key, secretHash } = mintApiKey(parsed, systemClock());
        await keys.insert(record, secretHash);
        out(JSON.stringify({ ...keyToWire(record), key }, null, 2));
        out('Store the key now: it cannot be shown again.');
        return;
      }
      case 'list':
        out(JSON.stringify((await keys.list(null)).map(keyToWire), null, 2));
        return;
      case 'revoke': {
        const id = rest[0];
        if (id === undefined) throw new UsageError('revoke needs a key id (see `list`)');
        if (!(await keys.revoke(id, null, systemClock()))) throw new UsageError(`no unrevoked key with id ${id}`);
        out(`revoked ${id}`);
        return;
      }
      default:
        throw new UsageError(`unknown command '${command}'\n${USAGE}`);
    }
  } finally {
    await keys.close();
    await pg?.close();
  }
}

run(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof ConfigError || (err instanceof TypeError && 'code' in err)) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`keys: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
