/**
 * Starts the real app on 127.0.0.1, port 0, with a temporary SQLite file (or memory), and
 * gives tests its URLs. Everything goes over real sockets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { mintApiKey, SqliteApiKeyStore } from '../../src/auth/api-keys.js';
import type { Scope } from '../../src/auth/principal.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  dir: string;
  stop(): Promise<void>;
}

/** Settings that keep tests independent of the defaults meant for production. */
export const TEST_ENV: Record<string, string> = {
  PORT: '0',
  RATE_LIMIT_PUBLISH: 'off',
  RATE_LIMIT_QUERY: 'off',
  RATE_LIMIT_ADMIN: 'off',
  MAX_WS_CONNECTIONS_PER_IP: '1000',
  LOG_LEVEL: 'error',
};

export async function startServer(env: Record<string, string> = {}, options: AppOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rep-test-'));
  const config: Readonly<Config> = loadConfig({ ...TEST_ENV, DATABASE_PATH: join(dir, 'events.db'), ...env });
  const app = await createApp(config, { log: createLogger(config.logLevel, () => undefined), ...options });
  const { port } = await app.listen();
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    dir,
    async stop() {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postEvent(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_type: 'answer_submitted', source: 'quiz_engine', session_id: 's-1', user_id: 'u-1', payload: { q: 1 }, ...overrides };
}

/**
 * Creates a scoped API key the way the `keys` command does, straight into the server's SQLite
 * database (any tenant; the admin API only makes keys in its caller's tenant). Returns the key.
 */
export async function mintKey(srv: TestServer, tenant: string, name: string, scopes: Scope[]): Promise<string> {
  const keyStore = new SqliteApiKeyStore(join(srv.dir, 'events.db'));
  try {
    const { record, key, secretHash } = mintApiKey({ tenant, name, scopes }, Date.now() * 1000);
    await keyStore.insert(record, secretHash);
    return key;
  } finally {
    await keyStore.close();
  }
}
