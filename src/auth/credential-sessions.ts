/**
 * @module auth/credential-sessions
 * Long-lived connections (WebSockets, SSE streams) are authenticated once, when they open, but
 * a credential can stop being valid while they stay open: a token expires, a key is revoked.
 * Every such connection is tracked here with a way to end it, so that both take effect on open
 * connections too, not only on the next request. Transport-agnostic: each transport says how
 * it ends a connection (a close code, the end of a stream).
 */
import { credentialKey, credentialKeyOf, type Principal } from './principal.js';
import type { TenantId } from '../domain/tenant.js';

export type EndReason = 'token_expired' | 'credential_revoked';

/** Ends one connection; called at most once. */
export type EndConnection = (reason: EndReason) => void;

/** setTimeout's longest delay; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Tracked {
  principal: Principal;
  end: EndConnection;
  timer: NodeJS.Timeout | undefined;
}

export class CredentialSessions {
  readonly #byCredential = new Map<string, Set<Tracked>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Tracks a connection until the returned function is called (when it closes, for any reason). */
  track(principal: Principal, end: EndConnection): () => void {
    const key = credentialKey(principal);
    const entry: Tracked = { principal, end: once(end), timer: undefined };
    const arm = (atMs: number): void => {
      const wait = atMs - this.#now();
      entry.timer = wait > MAX_TIMER_MS ? setTimeout(() => arm(atMs), MAX_TIMER_MS) : setTimeout(() => entry.end('token_expired'), Math.max(0, wait));
      entry.timer.unref();
    };
    if (principal.expiresAtMs !== null) arm(principal.expiresAtMs);
    let set = this.#byCredential.get(key);
    if (set === undefined) this.#byCredential.set(key, (set = new Set()));
    set.add(entry);
    return () => {
      clearTimeout(entry.timer);
      set.delete(entry);
      if (set.size === 0 && this.#byCredential.get(key) === set) this.#byCredential.delete(key);
    };
  }

  /** Ends every open connection of a credential (`actor` as in {@link Principal}); how many. */
  revoke(tenant: TenantId, actor: string): number {
    const set = this.#byCredential.get(credentialKeyOf(tenant, actor));
    if (set === undefined) return 0;
    const entries = [...set];
    for (const e of entries) e.end('credential_revoked');
    return entries.length;
  }

  /**
   * Asks `stillValid` about each credential with open connections and ends the connections of
   * those it rejects: how revocations made elsewhere (the `keys` command, another instance)
   * reach open connections. Resolves to how many connections it ended.
   */
  async sweep(stillValid: (principal: Principal) => Promise<boolean>): Promise<number> {
    let ended = 0;
    for (const set of [...this.#byCredential.values()]) {
      const first = set.values().next();
      if (first.done === true) continue;
      if (await stillValid(first.value.principal)) continue;
      for (const e of [...set]) {
        e.end('credential_revoked');
        ended++;
      }
    }
    return ended;
  }

  /** Open connections tracked, over all credentials. */
  get size(): number {
    let n = 0;
    for (const set of this.#byCredential.values()) n += set.size;
    return n;
  }
}

function once(end: EndConnection): EndConnection {
  let done = false;
  return (reason) => {
    if (done) return;
    done = true;
    end(reason);
  };
}
