// A diagnostic for issue 22's per-chunk cost: how many network reads a streamed answer
// reaches the relay in, and what the tap costs by that number. Each read that ends inside
// an event costs the tap a join of that event and a copy of the read (one write per read),
// where a whole answer in one read is passed on as it came. On the 2-core VM and on the
// 16-core host alike (2026-12-07) the stand-in model server's answers, 2 events or 100,
// arrive in one read each.
//
//   npm run build && cd bench && BENCH_PIN=shared:1 taskset -c 0 node stream-reads.mjs
//   BENCH_PIN=shared:2:1 taskset -c 2 node stream-reads.mjs   # the 16-core host: the reader where a server would run
import { Agent } from 'undici';
import { SseTap } from '../dist/upstream/sse.js';
import { layout, median, quantile, startServer } from './processes.mjs';

const ANSWERS = Number(process.env.BENCH_READS_ANSWERS ?? 2_000);
const CONNECTIONS = 16;

const upstream = await startServer('servers/upstream.mjs');
const base = new URL(upstream.msg.split(' ')[1]);
const agent = new Agent({ keepAliveTimeout: 30_000 });
const body = JSON.stringify({
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'hi' }],
});

/** Reads per answer as the tap takes them (on 'readable', all that has arrived), 16 answers at once. */
async function readsPerAnswer(tokens) {
  await upstream.ask({ tokens, tokenIntervalMs: 0 });
  const counts = [];
  let next = 0;
  const one = async () => {
    while (next++ < ANSWERS) {
      const res = await agent.request({
        origin: base.origin,
        path: `${base.pathname}/chat/completions`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      let reads = 0;
      await new Promise((resolve, reject) => {
        res.body.on('readable', () => {
          while (res.body.read() !== null) reads++;
        });
        res.body.once('end', resolve);
        res.body.once('error', reject);
      });
      counts.push(reads);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, one));
  return counts;
}

console.log(`\n## Network reads per streamed answer (${ANSWERS} answers, ${CONNECTIONS} at once; ${layout()})`);
console.log('| events an answer | reads: median | quartiles | most |');
console.log('|---:|---:|---:|---:|');
for (const tokens of [2, 100]) {
  const c = await readsPerAnswer(tokens);
  console.log(`| ${tokens} | ${median(c)} | ${quantile(c, 0.25)} … ${quantile(c, 0.75)} | ${Math.max(...c)} |`);
}
await upstream.stop();

// The tap alone, in this process: the same answer of 100 events fed whole, or cut into reads
// at byte boundaries that fall inside events. Each answer's output is taken by a reader
// before the next begins (a tap whose output piles up unread measures memory, not the tap).
const event = (i) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3-vl","choices":[{"index":0,"delta":{"content":" t${i}"},"finish_reason":null}]}\n\n`;
const answer = Buffer.from(
  `${Array.from({ length: 100 }, (_, i) => event(i)).join('')}data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3-vl","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`,
);
async function tapCost(readBytes, n) {
  const t0 = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    const tap = new SseTap({ dropUsageChunk: false });
    tap.on('data', () => {});
    const ended = new Promise((resolve) => tap.once('end', resolve));
    for (let i = 0; i < answer.length; i += readBytes) tap.feed(answer.subarray(i, i + readBytes));
    tap.finish();
    await ended;
  }
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / n;
}
console.log(`\n## The tap's CPU for an answer of 100 events (${answer.length} bytes), by reads (in-process, 9 rounds)`);
console.log('| reads | bytes a read | µs an answer | µs a read beyond the first |');
console.log('|---:|---:|---:|---:|');
let whole;
for (const readBytes of [answer.length, 4000, 1500, 500, 150]) {
  for (let i = 0; i < 3; i++) await tapCost(readBytes, 1_000);
  const rounds = [];
  for (let i = 0; i < 9; i++) rounds.push(await tapCost(readBytes, 1_000));
  const us = median(rounds);
  const reads = Math.ceil(answer.length / readBytes);
  whole ??= us;
  console.log(
    `| ${reads} | ${readBytes} | ${us.toFixed(1)} | ${reads > 1 ? ((us - whole) / (reads - 1)).toFixed(2) : '–'} |`,
  );
}
