// Preloaded into a server under test (node --import): its own event-loop delay, so that a
// slow probe can be told apart from a blocked loop (the loop held) or a busy machine (the
// process waiting for a core). On SIGUSR2 it writes p50/p99/max (ms) since the last signal
// to BENCH_LOOP_DELAY_FILE, then starts over.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
process.on('SIGUSR2', () => {
  const ms = (ns) => Math.round(ns / 1e5) / 10;
  const out = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
  h.reset();
  writeFileSync(process.env.BENCH_LOOP_DELAY_FILE, JSON.stringify(out));
});
