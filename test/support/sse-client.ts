/**
 * A Server-Sent Events reader over a real HTTP connection, parsing the stream as the HTML
 * standard says (fields `event`, `id`, `data`, `retry`; comment lines; a blank line ends a message).
 */
import { request, type IncomingMessage } from 'node:http';

export interface SseMessage {
  event: string;
  id: string | undefined;
  data: string;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  body = '';
  ended = false;
  #res: IncomingMessage | undefined;
  #abort: () => void = () => undefined;

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
        c.#res = res;
        c.status = res.statusCode ?? 0;
        c.headers = res.headers;
        res.setEncoding('utf8');
        let buffer = '';
        let current: Partial<SseMessage> & { data?: string } = {};
        res.on('data', (chunk: string) => {
          if (c.status !== 200) {
            c.body += chunk;
            return;
          }
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line === '') {
              if (current.data !== undefined) c.messages.push({ event: current.event ?? 'message', id: current.id, data: current.data });
              current = {};
            } else if (line.startsWith(':')) c.comments.push(line.slice(1).trim());
            else {
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'data') current.data = current.data === undefined ? value : `${current.data}\n${value}`;
              else if (field === 'event') current.event = value;
              else if (field === 'id') current.id = value;
            }
          }
        });
        res.on('end', () => (c.ended = true));
        res.on('error', () => (c.ended = true));
        resolve(c);
      });
      c.#abort = () => req.destroy();
      req.on('error', reject);
      req.end();
    });
  }

  /** Parsed `data` of the default-named messages (the events). */
  get events(): { id: string; seq: number | null }[] {
    return this.messages.filter((m) => m.event === 'message').map((m) => JSON.parse(m.data) as { id: string; seq: number | null });
  }

  named(event: string): Record<string, unknown>[] {
    return this.messages.filter((m) => m.event === event).map((m) => JSON.parse(m.data) as Record<string, unknown>);
  }

  async until(predicate: (c: SseClient) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; have ${this.messages.length} messages`);
      if (this.ended && !predicate(this)) throw new Error(`stream ended while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.#res?.destroy();
    this.#abort();
  }
}
