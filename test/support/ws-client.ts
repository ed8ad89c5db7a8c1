/**
 * A WebSocket test client over the real `ws` client: collects every text message as parsed
 * JSON and lets a test wait for a count, a predicate, or the close.
 */
import { WebSocket } from 'ws';

export class TestSocket {
  readonly ws: WebSocket;
  readonly messages: unknown[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly #waiters: (() => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
        this.#wake();
      });
    });
    this.ws.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')));
      this.#wake();
    });
    this.ws.on('error', () => undefined);
  }

  static async open(url: string, options?: ConstructorParameters<typeof WebSocket>[2]): Promise<TestSocket> {
    const s = new TestSocket(url, options);
    await s.opened;
    return s;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Resolves once `predicate` holds over the messages so far; rejects after `timeoutMs`. */
  async until(predicate: (messages: unknown[]) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; have ${this.messages.length} messages, close ${String(this.closeCode)}`);
      if (this.closeCode !== undefined && !predicate(this.messages)) {
        throw new Error(`socket closed (${this.closeCode}) while waiting for ${what}; have ${this.messages.length} messages`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async count(n: number, timeoutMs = 10_000): Promise<unknown[]> {
    await this.until((m) => m.length >= n, timeoutMs, `${n} messages`);
    return this.messages.slice(0, n);
  }

  #read = 0;

  /** The next message not yet returned by `next` (messages are read in order). */
  async next(timeoutMs = 5_000): Promise<unknown> {
    const n = this.#read;
    await this.until((m) => m.length > n, timeoutMs, 'next message');
    this.#read++;
    return this.messages[n];
  }

  close(): void {
    this.ws.close();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Subscribes and waits for the `subscribed` ack; the ack is removed from `messages`. */
export async function subscribe(wsUrl: string, filters: Record<string, unknown>): Promise<TestSocket> {
  const s = await TestSocket.open(`${wsUrl}/ws/subscribe`);
  s.send(filters);
  await s.until((m) => m.length >= 1, 5_000, 'subscribed ack');
  const ack = s.messages.shift() as { status?: string };
  // The ack is removed, so reading starts at the first event.
  if (ack.status !== 'subscribed') throw new Error(`subscribe failed: ${JSON.stringify(ack)}`);
  return s;
}
