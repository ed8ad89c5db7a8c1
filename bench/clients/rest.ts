/**
 * REST load through autocannon: POST of one event per request, or GET of a history query.
 * Args: {url, method, connections, seconds, paths?}. Prints {rps, p50, p99, errors, non2xx}.
 */
import autocannon from 'autocannon';
import { sampleEvent } from '../lib/event.js';

interface Args {
  url: string;
  method: 'POST' | 'GET';
  connections: number;
  seconds: number;
  paths?: string[];
  /** With POST: send arrays of this many events to the batch route. */
  batch?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let i = 0;
const requests: autocannon.Request[] =
  args.method === 'POST'
    ? [
        {
          method: 'POST',
          path: args.batch === undefined ? '/api/v1/events' : '/api/v1/events/batch',
          headers: { 'content-type': 'application/json' },
          setupRequest: (r) => ({
            ...r,
            body: JSON.stringify(args.batch === undefined ? sampleEvent(i++) : Array.from({ length: args.batch }, () => sampleEvent(i++))),
          }),
        },
      ]
    : [{ method: 'GET', setupRequest: (r) => ({ ...r, path: (args.paths ?? ['/'])[i++ % (args.paths?.length ?? 1)] ?? '/' }) }];

const result = await autocannon({ url: args.url, connections: args.connections, duration: args.seconds, pipelining: 1, requests });
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }) + '\n',
);
