/**
 * @module http/server
 * The network edge: a bare `node:http` server that owns the port, dispatches REST routes, and
 * hands WebSocket upgrades to `ws` (noServer). The only code that knows status codes and
 * sockets; everything it calls is transport-agnostic.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import { ERROR_HTTP_STATUS } from '../../protocol/error-codes.js';
import { PipelineError, rateLimited } from '../domain/errors.js';
import type { RateClass, RateLimiter } from '../limits/rate-limiter.js';
import { errorFields, type Logger } from '../log/logger.js';
import { readBody } from './body.js';
import type { Cors } from './cors.js';
import { ANONYMOUS, credentialKey, rateKeyOf, SHARED_KEY, type Principal, type Scope } from '../auth/principal.js';
import type { Authenticate } from '../auth/authenticator.js';
import type { CredentialSessions } from '../auth/credential-sessions.js';
import { credentialOf, requireScope, selectSubprotocol } from './auth.js';
import type { ClientAddressOf } from './client-address.js';
import { errorReply, internalErrorReply, isStreamReply, json, send, SECURITY_HEADERS } from './responses.js';
import type { Route } from './route.js';
import { API_PREFIX, RouteTable } from './router.js';
import { CLOSE_HANDSHAKE_GRACE_MS, type Connection } from './ws/connection.js';
import { awaitAuthMessage, AUTH_BY_MESSAGE } from './ws/first-message-auth.js';
import { PublishConnection, type PublishDeps } from './ws/publish-connection.js';
import { SubscribeConnection, type SubscribeDeps } from './ws/subscribe-connection.js';

export interface HttpLimits {
  maxBodyBytes: number;
  maxWsFrameBytes: number;
  maxWsConnectionsPerIp: number;
  maxWsConnectionsPerCredential: number;
  /** Time a socket opened with `auth=message` has to authenticate. */
  wsAuthTimeoutMs: number;
  /** Ping every socket this often; one that has not answered the previous ping is cut. */
  wsPingIntervalMs: number;
  /** Slowloris bounds: a request's headers must arrive within this, in ms… */
  headersTimeoutMs: number;
  /** …and the whole request (headers and body) within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export interface HttpServerDeps {
  routes: readonly Route[];
  authenticate: Authenticate;
  cors: Cors;
  rateLimiter: RateLimiter;
  limits: HttpLimits;
  /** Who a request counts against for per-address limits (see http/client-address.ts). */
  clientAddress: ClientAddressOf;
  publish: PublishDeps;
  subscribe: SubscribeDeps;
  /** Open sockets by credential, ended when their token expires or their key is revoked. */
  sessions: CredentialSessions;
  log: Logger;
}

/** Something that says when it is gone: a socket, or a response (an SSE stream). */
interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

export class HttpServer {
  readonly server: Server;
  readonly #deps: HttpServerDeps;
  readonly #table: RouteTable;
  readonly #wss: WebSocketServer;
  readonly #connections = new Map<Connection, WebSocket>();
  readonly #wsPerClient = new Map<string, number>();
  readonly #wsPerCredential = new Map<string, number>();
  /** Upgraded sockets still waiting for their `auth` message. */
  readonly #pending = new Set<WebSocket>();
  /** Sockets that have not answered the latest ping. */
  readonly #awaitingPong = new Set<WebSocket>();
  readonly #pinger: NodeJS.Timeout;
  #closing = false;

  constructor(deps: HttpServerDeps) {
    this.#deps = deps;
    this.#table = new RouteTable(deps.routes);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.limits.maxWsFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: selectSubprotocol,
    });
    this.#pinger = setInterval(() => this.#pingAll(), deps.limits.wsPingIntervalMs);
    this.#pinger.unref();
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = deps.limits;
    this.server = createServer({
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      // Node checks the two request timeouts on this interval (30 s by default): check often
      // enough that a slow sender is cut close to its deadline.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      // Headers or a body that did not arrive in time (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS).
      const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const [status, code, detail] = timedOut ? [408, 'REQUEST_TIMEOUT', 'Request Timeout'] : [400, 'REQUEST_MALFORMED', 'Bad Request'];
      const body = JSON.stringify({ detail });
      socket.end(`HTTP/1.1 ${status} ${detail}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Error-Code: ${code}\r\nConnection: close\r\n\r\n${body}`);
    });
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = this.#deps.cors.headers(req);
    try {
      const url = requestUrl(req);
      const method = req.method ?? 'GET';
      const match = this.#table.match(method, url.pathname);
      if (match.kind === 'not-found') {
        await drain(req);
        send(res, json(404, { detail: 'Not Found' }, { 'X-Error-Code': 'ROUTE_NOT_FOUND' }), cors);
        return;
      }
      if (match.kind === 'method-not-allowed') {
        if (method === 'OPTIONS' && this.#deps.cors.enabled) {
          const pre = this.#deps.cors.preflightHeaders(req, match.allowed);
          res.writeHead(Object.keys(pre).length > 0 ? 204 : 403, { ...SECURITY_HEADERS, ...pre, 'Content-Length': '0' });
          res.end();
          return;
        }
        await drain(req);
        send(res, json(405, { detail: 'Method Not Allowed' }, { Allow: match.allowed.join(', '), 'X-Error-Code': 'METHOD_NOT_ALLOWED' }), cors);
        return;
      }
      const { route, params } = match;
      const client = this.#deps.clientAddress(req);
      let principal = ANONYMOUS;
      if (route.scope !== null) {
        try {
          principal = await this.#deps.authenticate(credentialOf(req, route.queryAuth === true ? url.searchParams : null));
        } catch (err) {
          // Failed attempts count against the address, so guessing keys is rate limited too.
          if (route.rate !== null) this.#charge(client, route.rate);
          await drain(req);
          throw err;
        }
      }
      if (route.rate !== null) {
        try {
          this.#charge(rateKeyOf(principal, client), route.rate);
        } catch (err) {
          await drain(req);
          throw err;
        }
      }
      if (route.scope !== null) requireScope(principal, route.scope);
      let body: Buffer | undefined;
      if (route.body) body = await readBody(req, route.maxBodyBytes ?? this.#deps.limits.maxBodyBytes);
      else await drain(req);
      const reply = await route.handle({ req, client, principal, actor: `${principal.actor}@${client}`, query: url.searchParams, params, body });
      if (isStreamReply(reply)) {
        // A stream holds a connection as long as a WebSocket does, and counts like one.
        const refused = this.#takeStreamSlots(principal, client, res);
        if (refused !== undefined) throw refused;
        res.writeHead(reply.status, { ...SECURITY_HEADERS, ...cors, ...reply.headers });
        reply.start(res);
        return;
      }
      send(res, reply, cors);
    } catch (err) {
      if (err instanceof PipelineError) {
        const reply = errorReply(err);
        send(res, reply, cors);
        if (err.httpStatus === ERROR_HTTP_STATUS.REQUEST_BODY_TOO_LARGE) res.once('finish', () => {
          req.socket.destroySoon();
        });
        return;
      }
      this.#deps.log.error('request failed', { method: req.method, path: req.url?.split('?')[0], ...errorFields(err) });
      send(res, internalErrorReply(), cors);
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = requestUrl(req);
    } catch {
      rejectUpgrade(socket, 400, { detail: 'Bad Request' });
      return;
    }
    const path = url.pathname.startsWith(API_PREFIX + '/ws/') ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const refusal = this.#refuseUpgrade(req, path);
    if (refusal !== undefined) {
      rejectUpgrade(socket, refusal.status, { detail: refusal.detail });
      return;
    }
    const scope: Scope = path === '/ws/publish' ? 'publish' : 'subscribe';
    const credential = credentialOf(req, url.searchParams);
    if (credential === undefined && url.searchParams.get('auth') === AUTH_BY_MESSAGE) {
      this.#acceptUpgrade(req, socket, head, path, undefined);
      return;
    }
    this.#deps.authenticate(credential).then(
      (principal) => {
        try {
          requireScope(principal, scope);
        } catch (err) {
          rejectUpgrade(socket, 403, { detail: (err as Error).message });
          return;
        }
        if (!this.#takeCredentialSlot(principal, socket)) {
          rejectUpgrade(socket, 429, { detail: `Too many WebSocket connections with this credential (limit ${this.#deps.limits.maxWsConnectionsPerCredential})` });
          return;
        }
        this.#acceptUpgrade(req, socket, head, path, principal);
      },
      (err: unknown) => {
        if (err instanceof PipelineError) rejectUpgrade(socket, err.httpStatus, { detail: err.message });
        else {
          this.#deps.log.error('websocket authentication failed', errorFields(err));
          rejectUpgrade(socket, 500, { detail: 'Internal Server Error' });
        }
      },
    );
  }

  /** Takes from a rate-limit bucket; throws RATE_LIMITED with Retry-After when it is empty. */
  #charge(key: string, rate: RateClass): void {
    const decision = this.#deps.rateLimiter.take(key, rate);
    if (!decision.ok) throw rateLimited(decision.retryAfterSeconds);
  }

  /**
   * Counts a socket against its credential until the socket closes; false when the credential
   * is at its limit. The shared key and open mode have no individual credential: the per-address
   * limit covers them.
   */
  #takeCredentialSlot(principal: Principal, socket: Closable): boolean {
    if (principal === ANONYMOUS || principal === SHARED_KEY) return true;
    const key = credentialKey(principal);
    const open = this.#wsPerCredential.get(key) ?? 0;
    if (open >= this.#deps.limits.maxWsConnectionsPerCredential) return false;
    this.#wsPerCredential.set(key, open + 1);
    socket.once('close', () => decrement(this.#wsPerCredential, key));
    return true;
  }

  /** Counts an SSE stream against its address and credential, as a WebSocket would; the refusal otherwise. */
  #takeStreamSlots(principal: Principal, client: string, res: ServerResponse): PipelineError | undefined {
    const limit = this.#deps.limits.maxWsConnectionsPerIp;
    const open = this.#wsPerClient.get(client) ?? 0;
    if (open >= limit) return new PipelineError('CONNECTION_LIMIT_REACHED', `Too many streaming connections from this address (limit ${limit})`);
    if (!this.#takeCredentialSlot(principal, res)) {
      return new PipelineError('CONNECTION_LIMIT_REACHED', `Too many streaming connections with this credential (limit ${this.#deps.limits.maxWsConnectionsPerCredential})`);
    }
    this.#wsPerClient.set(client, open + 1);
    res.once('close', () => decrement(this.#wsPerClient, client));
    return undefined;
  }

  /** Upgrades; `principal` undefined means the first message must authenticate the socket. */
  #acceptUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, path: string, principal: Principal | undefined): void {
    if (socket.destroyed) return;
    if (this.#closing) {
      rejectUpgrade(socket, 503, { detail: 'Server is shutting down' });
      return;
    }
    const client = this.#deps.clientAddress(req);
    const open = this.#wsPerClient.get(client) ?? 0;
    const limit = this.#deps.limits.maxWsConnectionsPerIp;
    if (open >= limit) {
      rejectUpgrade(socket, 429, { detail: `Too many WebSocket connections from this address (limit ${limit})` });
      return;
    }
    this.#wsPerClient.set(client, open + 1);
    socket.once('close', () => decrement(this.#wsPerClient, client));
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', (err) => this.#deps.log.debug('websocket error', { path, ...errorFields(err) }));
      if (principal !== undefined) {
        this.#serve(ws, socket, client, path, principal);
        return;
      }
      this.#pending.add(ws);
      const scope: Scope = path === '/ws/publish' ? 'publish' : 'subscribe';
      void awaitAuthMessage(ws, { authenticate: this.#deps.authenticate, scope, timeoutMs: this.#deps.limits.wsAuthTimeoutMs }).then((authenticated) => {
        this.#pending.delete(ws);
        if (authenticated === undefined) return;
        if (this.#closing || !this.#takeCredentialSlot(authenticated.principal, socket)) {
          ws.resume();
          if (this.#closing) ws.close(CloseCode.GOING_AWAY, 'server shutting down');
          else ws.close(CloseCode.TOO_MANY_CONNECTIONS, 'too many connections with this credential');
          return;
        }
        this.#serve(ws, socket, client, path, authenticated.principal);
        for (const m of authenticated.held) ws.emit('message', m.data, m.isBinary);
        ws.resume();
      });
    });
  }

  /** Hands an authenticated socket to the connection that speaks its protocol. */
  #serve(ws: WebSocket, socket: Socket, client: string, path: string, principal: Principal): void {
    const conn =
      path === '/ws/publish'
        ? new PublishConnection(ws, socket, client, principal, this.#deps.publish)
        : new SubscribeConnection(ws, socket, client, principal, this.#deps.subscribe);
    this.#connections.set(conn, ws);
    ws.on('pong', () => this.#awaitingPong.delete(ws));
    const untrack = this.#deps.sessions.track(principal, (reason) =>
      reason === 'token_expired' ? ws.close(CloseCode.TOKEN_EXPIRED, 'token expired') : ws.close(CloseCode.CREDENTIAL_REVOKED, 'credential revoked'),
    );
    ws.once('close', () => {
      untrack();
      this.#connections.delete(conn);
      this.#awaitingPong.delete(ws);
    });
  }

  /** Dead peers (a vanished laptop sends no FIN) would otherwise hold a socket for minutes. */
  #pingAll(): void {
    for (const ws of this.#connections.values()) {
      if (this.#awaitingPong.has(ws)) {
        ws.terminate();
        continue;
      }
      this.#awaitingPong.add(ws);
      ws.ping();
    }
  }

  /** Why an upgrade must be refused before the handshake and before any credential is checked. */
  #refuseUpgrade(req: IncomingMessage, path: string): { status: number; detail: string } | undefined {
    if (this.#closing) return { status: 503, detail: 'Server is shutting down' };
    if (path !== '/ws/publish' && path !== '/ws/subscribe') return { status: 404, detail: 'Not Found' };
    // Browsers always send Origin; CORS_ORIGINS is the allowlist. Other clients send none and
    // are judged by their credential alone.
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#deps.cors.allows(origin)) return { status: 403, detail: 'Origin not allowed' };
    const limit = this.#deps.limits.maxWsConnectionsPerIp;
    if ((this.#wsPerClient.get(this.#deps.clientAddress(req)) ?? 0) >= limit) {
      return { status: 429, detail: `Too many WebSocket connections from this address (limit ${limit})` };
    }
    return undefined;
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr !== null ? { host: addr.address, port: addr.port } : { host, port });
      });
    });
  }

  /** Stops accepting connections and upgrades; open ones keep working until {@link closeConnections}. */
  stopAccepting(): void {
    this.#closing = true;
    clearInterval(this.#pinger);
    this.server.close();
    this.server.closeIdleConnections();
  }

  /**
   * Closes every WebSocket with 1001 after it finishes its work, within `deadlineMs`; sockets
   * whose close handshake has not completed shortly after are cut.
   */
  async closeConnections(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (const ws of this.#pending) ws.close(CloseCode.GOING_AWAY, 'server shutting down');
    const closed = [...this.#connections.values()].map((ws) => new Promise((resolve) => ws.once('close', resolve)));
    await withDeadline(
      Promise.allSettled([...this.#connections.keys()].map((c) => c.shutdown(CloseCode.GOING_AWAY, 'server shutting down'))),
      deadline - Date.now(),
    );
    await withDeadline(Promise.all(closed), Math.min(CLOSE_HANDSHAKE_GRACE_MS, Math.max(0, deadline - Date.now())));
    for (const ws of this.#connections.values()) ws.terminate();
    for (const ws of this.#pending) ws.terminate();
    this.server.closeAllConnections();
  }
}

/** setTimeout's longest delay (about 24.8 days); longer waits are re-armed. */

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    }),
  ]);
  clearTimeout(timer);
}

/** The request target as a URL; a target no URL parser accepts is the client's error (400). */
function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch (err) {
    throw new PipelineError('REQUEST_MALFORMED', 'Bad Request', { cause: err });
  }
}

/** Discards a body the route does not read, so keep-alive connections stay usable. */
function drain(req: IncomingMessage): Promise<void> {
  if (req.complete || req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    req.on('error', () => resolve());
    req.on('end', () => resolve());
    req.resume();
  });
}

function rejectUpgrade(socket: Socket, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const reason = STATUS_CODES[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n` +
      Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
      `\r\n${text}`,
  );
}
