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
import type { RateLimiter } from '../limits/rate-limiter.js';
import { errorFields, type Logger } from '../log/logger.js';
import type { Authenticate } from './auth.js';
import { readBody } from './body.js';
import type { Cors } from './cors.js';
import type { ClientAddressOf } from './client-address.js';
import { errorReply, internalErrorReply, isStreamReply, json, send, SECURITY_HEADERS } from './responses.js';
import type { Route } from './route.js';
import { API_PREFIX, RouteTable } from './router.js';
import { CLOSE_HANDSHAKE_GRACE_MS, type Connection } from './ws/connection.js';
import { PublishConnection, type PublishDeps } from './ws/publish-connection.js';
import { SubscribeConnection, type SubscribeDeps } from './ws/subscribe-connection.js';

export interface HttpLimits {
  maxBodyBytes: number;
  maxWsFrameBytes: number;
  maxWsConnectionsPerIp: number;
  /** Ping every socket this often; one that has not answered the previous ping is cut. */
  wsPingIntervalMs: number;
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
  log: Logger;
}

/** Slowloris bounds: headers must arrive within this, a whole request within the next. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export class HttpServer {
  readonly server: Server;
  readonly #deps: HttpServerDeps;
  readonly #table: RouteTable;
  readonly #wss: WebSocketServer;
  readonly #connections = new Map<Connection, WebSocket>();
  readonly #wsPerClient = new Map<string, number>();
  /** Sockets that have not answered the latest ping. */
  readonly #awaitingPong = new Set<WebSocket>();
  readonly #pinger: NodeJS.Timeout;
  #closing = false;

  constructor(deps: HttpServerDeps) {
    this.#deps = deps;
    this.#table = new RouteTable(deps.routes);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: deps.limits.maxWsFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.#pinger = setInterval(() => this.#pingAll(), deps.limits.wsPingIntervalMs);
    this.#pinger.unref();
    this.server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const body = JSON.stringify({ detail: 'Bad Request' });
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Error-Code: REQUEST_MALFORMED\r\nConnection: close\r\n\r\n${body}`);
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
      if (route.rate !== null) {
        const decision = this.#deps.rateLimiter.take(client, route.rate);
        if (!decision.ok) {
          await drain(req);
          throw rateLimited(decision.retryAfterSeconds);
        }
      }
      const principal = route.auth ? this.#deps.authenticate(req, route.queryAuth === true ? url.searchParams : null) : { actor: 'anonymous' };
      let body: Buffer | undefined;
      if (route.body) body = await readBody(req, route.maxBodyBytes ?? this.#deps.limits.maxBodyBytes);
      else await drain(req);
      const reply = await route.handle({ req, client, actor: `${principal.actor}@${client}`, query: url.searchParams, params, body });
      if (isStreamReply(reply)) {
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
    const refusal = this.#refuseUpgrade(req, url, path);
    if (refusal !== undefined) {
      rejectUpgrade(socket, refusal.status, { detail: refusal.detail });
      return;
    }
    const client = this.#deps.clientAddress(req);
    const open = this.#wsPerClient.get(client) ?? 0;
    this.#wsPerClient.set(client, open + 1);
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const conn =
        path === '/ws/publish' ? new PublishConnection(ws, socket, client, this.#deps.publish) : new SubscribeConnection(ws, socket, client, this.#deps.subscribe);
      this.#connections.set(conn, ws);
      ws.on('pong', () => this.#awaitingPong.delete(ws));
      ws.on('error', (err) => this.#deps.log.debug('websocket error', { path, ...errorFields(err) }));
      ws.once('close', () => {
        this.#connections.delete(conn);
        this.#awaitingPong.delete(ws);
        const n = (this.#wsPerClient.get(client) ?? 1) - 1;
        if (n <= 0) this.#wsPerClient.delete(client);
        else this.#wsPerClient.set(client, n);
      });
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

  /** Why an upgrade must be refused before the handshake, if it must. */
  #refuseUpgrade(req: IncomingMessage, url: URL, path: string): { status: number; detail: string } | undefined {
    if (this.#closing) return { status: 503, detail: 'Server is shutting down' };
    if (path !== '/ws/publish' && path !== '/ws/subscribe') return { status: 404, detail: 'Not Found' };
    try {
      this.#deps.authenticate(req, url.searchParams);
    } catch (err) {
      if (err instanceof PipelineError) return { status: err.httpStatus, detail: err.message };
      throw err;
    }
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
    const closed = [...this.#connections.values()].map((ws) => new Promise((resolve) => ws.once('close', resolve)));
    await withDeadline(
      Promise.allSettled([...this.#connections.keys()].map((c) => c.shutdown(CloseCode.GOING_AWAY, 'server shutting down'))),
      deadline - Date.now(),
    );
    await withDeadline(Promise.all(closed), Math.min(CLOSE_HANDSHAKE_GRACE_MS, Math.max(0, deadline - Date.now())));
    for (const ws of this.#connections.values()) ws.terminate();
    this.server.closeAllConnections();
  }
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
