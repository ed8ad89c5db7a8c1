// Subscribes to quiz events of one session and prints each as it arrives.
// Run: node examples/subscribe.mjs   (PIPELINE_URL defaults to ws://localhost:8001)
import WebSocket from 'ws';

const base = process.env.PIPELINE_URL ?? 'ws://localhost:8001';
const ws = new WebSocket(`${base}/ws/subscribe`);

ws.on('open', () => {
  ws.send(JSON.stringify({ event_types: ['quiz_started', 'answer_submitted', 'quiz_completed'], session_id: 'session-123' }));
});

ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.status === 'subscribed') console.log(`subscribed as ${msg.subscriber_id}`, msg.filters);
  else if (msg.event_type) console.log(`#${msg.seq} [${msg.event_type}] ${msg.user_id ?? '-'}`, msg.payload);
  else console.log(msg);
});

ws.on('close', (code, reason) => console.log(`closed ${code} ${reason}`));
