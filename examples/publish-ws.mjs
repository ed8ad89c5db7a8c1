// Publishes a few events over one WebSocket without waiting between them; every message is
// answered, in order, once its event is durably stored.
// Run: node examples/publish-ws.mjs   (PIPELINE_URL defaults to ws://localhost:8001)
import WebSocket from 'ws';

const base = process.env.PIPELINE_URL ?? 'ws://localhost:8001';
const ws = new WebSocket(`${base}/ws/publish`);
const events = [
  { event_type: 'quiz_started', source: 'quiz_engine', session_id: 'session-123', user_id: 'student-456', payload: { quiz_id: 'math-101' } },
  { event_type: 'answer_submitted', source: 'quiz_engine', session_id: 'session-123', user_id: 'student-456', payload: { question_id: 'q-1', answer: 'B' } },
  { event_type: 'quiz_completed', source: 'quiz_engine', session_id: 'session-123', user_id: 'student-456', payload: { score: 85 } },
];
let answered = 0;

ws.on('open', () => {
  for (const e of events) ws.send(JSON.stringify(e));
});

ws.on('message', (data) => {
  console.log(data.toString());
  if (++answered === events.length) ws.close();
});
