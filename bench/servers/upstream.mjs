// The simulated model server answering at once: proxy overhead is all that is left.
// BENCH_TOKENS: tokens an answer has (a streamed answer: one event each). A message over IPC
// changes its behaviour ({tokens, tokenIntervalMs}) and is answered 'ok' once applied.
import { startFakeUpstream } from '../../dist/demo/fake-upstream.js';
const fake = await startFakeUpstream({
  port: Number(process.argv[2]),
  behavior: { ttftMs: 0, tokenIntervalMs: 0, spread: 0, tokens: Number(process.env.BENCH_TOKENS ?? 8), errorRate: 0 },
});
process.on('message', (change) => {
  Object.assign(fake.behavior, change);
  process.send?.('ok');
});
process.send?.(`ready ${fake.url}`);
