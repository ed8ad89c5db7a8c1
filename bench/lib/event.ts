/** The event the load scenarios publish: a typical answer, about 200 bytes on the wire. */
export function sampleEvent(i: number, sessions = 100): Record<string, unknown> {
  return {
    event_type: 'answer_submitted',
    source: 'quiz_engine',
    session_id: `session-${i % sessions}`,
    user_id: `student-${i % 3000}`,
    payload: { question_id: `q-${i % 40}`, answer: 'B', correct: i % 3 === 0, time_spent_ms: 8500 },
  };
}
