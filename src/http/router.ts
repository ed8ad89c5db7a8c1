/**
 * @module http/router
 * Finds the route for a method and path: `/api/v1/<path>` and `/<path>` alike, `{param}`
 * segments, and the difference between "no such path" (404) and "no such method" (405).
 */
import type { Route } from './route.js';

export const API_PREFIX = '/api/v1';

interface Compiled {
  segments: string[];
  byMethod: Map<string, Route>;
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

export class RouteTable {
  readonly #exact = new Map<string, Map<string, Route>>();
  readonly #patterns: Compiled[] = [];

  constructor(routes: readonly Route[]) {
    for (const r of routes) {
      const paths = r.versioned ? [r.path, API_PREFIX + r.path] : [r.path];
      for (const p of paths) {
        if (p.includes('{')) {
          const segments = p.split('/');
          let c = this.#patterns.find((x) => x.segments.join('/') === segments.join('/'));
          if (c === undefined) {
            c = { segments, byMethod: new Map<string, Route>() };
            this.#patterns.push(c);
          }
          c.byMethod.set(r.method, r);
        } else {
          let m = this.#exact.get(p);
          if (m === undefined) {
            m = new Map<string, Route>();
            this.#exact.set(p, m);
          }
          m.set(r.method, r);
        }
      }
    }
  }

  match(method: string, path: string): Match {
    const exact = this.#exact.get(path);
    if (exact !== undefined) return pick(exact, method, {});
    const parts = path.split('/');
    for (const c of this.#patterns) {
      if (c.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = c.segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith('{')) {
          if (part === '') ok = false;
          else params[seg.slice(1, -1)] = safeDecode(part);
        } else ok = seg === part;
      }
      if (ok) return pick(c.byMethod, method, params);
    }
    return { kind: 'not-found' };
  }
}

function pick(byMethod: Map<string, Route>, method: string, params: Record<string, string>): Match {
  const route = byMethod.get(method);
  if (route !== undefined) return { kind: 'found', route, params };
  return { kind: 'method-not-allowed', allowed: [...byMethod.keys()] };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
