/**
 * @module config/load
 * The only code that reads the environment: every setting parsed, every problem reported at
 * once with the variable that caused it, cross-checks applied, the result frozen.
 */
import { createPublicKey } from 'node:crypto';
import { SETTINGS, type Config } from './schema.js';

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = env[s.env];
    const parsed = (s.parse as (r: string) => unknown)(raw ?? s.default);
    if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) {
      problems.push(`${s.env}: ${(parsed as { error: string }).error}`);
    } else {
      out[s.key] = parsed;
    }
  }
  const config = { ...out, ...overrides } as Config;
  if (problems.length === 0) {
    if (config.databaseUrl !== null) {
      if (env['EVENT_STORE'] !== undefined && config.eventStore !== 'postgres') problems.push(`EVENT_STORE: ${config.eventStore} conflicts with DATABASE_URL, which selects postgres`);
      config.eventStore = 'postgres';
    } else if (config.eventStore === 'postgres') problems.push('DATABASE_URL: EVENT_STORE=postgres needs DATABASE_URL');
    if (config.redisUrl !== null && config.eventStore !== 'postgres') {
      problems.push('REDIS_URL: several instances need a shared store; set DATABASE_URL too');
    }
    if (config.jwtSecret !== null && config.jwtPublicKey !== null) problems.push('JWT_PUBLIC_KEY: set either JWT_SECRET or JWT_PUBLIC_KEY, not both');
    if ((config.jwtSecret !== null || config.jwtPublicKey !== null) && (config.jwtIssuer === null || config.jwtAudience === null)) {
      problems.push('JWT_ISSUER: JWT_ISSUER and JWT_AUDIENCE must both be set when JWTs are configured');
    }
    if (config.jwtPublicKey !== null) {
      try {
        createPublicKey(config.jwtPublicKey);
      } catch {
        problems.push('JWT_PUBLIC_KEY: not a PEM public key');
      }
    }
    if (!isLoopback(config.host) && !config.requireAuth && !config.allowInsecure) {
      problems.push(
        `HOST: ${config.host} is reachable from other machines and REQUIRE_AUTH is off, so anyone who can reach the port could read and delete every event; set REQUIRE_AUTH=true and API_KEY, or ALLOW_INSECURE=true to accept that`,
      );
    }
    if (config.maxBodyBytes <= config.maxPayloadBytes) {
      problems.push(`MAX_BODY_BYTES: must be larger than MAX_PAYLOAD_BYTES (${config.maxPayloadBytes}), got ${config.maxBodyBytes}`);
    }
    if (config.maxWsFrameBytes < config.maxWsMessageBytes) {
      problems.push(`MAX_WS_FRAME_BYTES: must be at least MAX_WS_MESSAGE_BYTES (${config.maxWsMessageBytes}), got ${config.maxWsFrameBytes}`);
    }
    if (config.maxWsMessageBytes <= config.maxPayloadBytes) {
      problems.push(`MAX_WS_MESSAGE_BYTES: must be larger than MAX_PAYLOAD_BYTES (${config.maxPayloadBytes}), got ${config.maxWsMessageBytes}`);
    }
    if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
      problems.push(`HTTP_HEADERS_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs}), got ${config.httpHeadersTimeoutMs}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...config, corsOrigins: Object.freeze([...config.corsOrigins]) });
}

/** Loopback names and addresses: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}
