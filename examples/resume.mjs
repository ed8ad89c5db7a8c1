// A subscriber that never misses an event: it remembers the last `seq` it saw and, whenever the
// connection drops (network, server restart, slow-consumer cut), reconnects from there.
// Run: node examples/resume.mjs   (PIPELINE_URL defaults to ws://localhost:8001)
import WebSocket from 'ws';

const base = process.env.PIPELINE_URL ?? 'ws://localhost:8001';
const filters = { session_id: 'session-123' };
let lastSeq = null; // persist this (a file, localStorage) to survive restarts of the client too
let delay = 500;

function connect() {
  const ws = new WebSocket(`${base}/ws/subscribe`);
  ws.on('open', () => {
    // First time: everything stored for the session; afterwards: right after the last event seen.
    ws.send(JSON.stringify({ ...filters, from: lastSeq ?? 'earliest' }));
  });
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.status === 'subscribed') console.log(`subscribed as ${msg.subscriber_id}, head_seq ${msg.head_seq}`);
    else if (msg.type === 'caught_up') console.log(`caught up at seq ${msg.seq}; live from here`);
    else if (msg.type === 'reset') console.log(`history before seq ${msg.from} is gone (${msg.reason}); continuing from there`);
    else if (msg.event_type) {
      if (msg.seq !== null) lastSeq = msg.seq; // ephemeral events (timer_tick) have no seq
      delay = 500;
      console.log(`#${msg.seq ?? '-'} [${msg.event_type}] ${msg.user_id ?? '-'}`, msg.payload);
    }
  });
  ws.on('close', (code) => {
    if (code === 4500) return; // terminal: fix the request instead of retrying
    console.log(`closed ${code}; resuming after seq ${lastSeq ?? '(none)'} in ${delay} ms`);
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30_000);
  });
  ws.on('error', () => {}); // 'close' follows
}

connect();
