// How long "why is it firing" takes at the size the issue names: 8 GPUs × 20 endpoints with
// an hour of checks (every 5 s) in the store, a full log ring and a hundred clients. It runs
// once when an alert starts and at most once a minute after, on the check's turn of the loop.
//   npm run build && node bench/why.mjs
import { explainWhy } from '../dist/alerts/why.js';
import { EventLog } from '../dist/log/event-log.js';
import { ClientStats } from '../dist/metrics/client-stats.js';
import { SeriesStore } from '../dist/metrics/series-store.js';

const INTERVAL = 5_000;
const HOUR = 3_600_000;
const now = Date.UTC(2026, 11, 6, 12, 0, 0);
const store = new SeriesStore({ intervalMs: INTERVAL, maxSeries: 5_000 });
const gpuMetrics = [
  'gpu_memory_used_mib',
  'gpu_memory_utilization_percent',
  'gpu_utilization_percent',
  'gpu_utilization_peak_percent',
  'gpu_utilization_mean_percent',
  'gpu_temperature_celsius',
  'gpu_power_watts',
  'gpu_memory_bandwidth_utilization_percent',
  'gpu_sm_clock_mhz',
  'gpu_memory_clock_mhz',
  'gpu_fan_percent',
  'gpu_pcie_tx_kibps',
  'gpu_pcie_rx_kibps',
  'gpu_available',
];
const endpointMetrics = [
  'requests_per_second',
  'latency_ms_avg',
  'latency_ms_p50',
  'latency_ms_p95',
  'latency_ms_p99',
  'http_status_2xx',
  'http_status_4xx',
  'http_status_5xx',
  'response_bytes',
];
const hostMetrics = [
  'cpu_load_percent',
  'memory_utilization_percent',
  'disk_io_wait_percent',
  'memory_used_mib',
  'io_pressure_some_avg10',
  'load_average_1m',
  'event_loop_delay_p99_ms',
  'error_rate_percent',
  'active_connections',
  'model_requests_in_flight',
  'ttft_ms',
  'tokens_per_second',
  'ocr_confidence_mean',
  'upstream_requests_waiting',
  'upstream_kv_cache_usage_percent',
];
const { seededRandom } = await import('../dist/demo/fake-upstream.js');
const random = seededRandom(1);
for (let t = now - HOUR; t <= now; t += INTERVAL) {
  for (let g = 0; g < 8; g++) for (const m of gpuMetrics) store.record(m, { gpu: String(g) }, t, 50 + random() * 10);
  for (let e = 0; e < 20; e++)
    for (const m of endpointMetrics) store.record(m, { endpoint: `/api/e${e}` }, t, 100 + random() * 30);
  for (const m of hostMetrics) store.record(m, {}, t, 40 + random() * 5);
}
let clockNow = now - HOUR;
const log = new EventLog({ sampleRate: 1, clock: () => clockNow });
for (let i = 0; i < 10_000; i++) {
  clockNow = now - HOUR + (i * HOUR) / 10_000;
  log.warn(i % 3 ? 'ocr' : 'vlm', `event ${i % 40}`, { client: `c${i % 100}` });
}
const clients = new ClientStats();
for (let t = now - HOUR; t <= now; t += 500) clients.record(`c${Math.floor(random() * 100)}`, 'ocr', true, 300, t);

const runs = [];
for (let i = 0; i < 30; i++) {
  const t0 = process.hrtime.bigint();
  explainWhy({
    store,
    log: log.newestFirst(),
    clientTotals: (what, end, windowMs) => clients.moduleTotals('ocr', what, end, windowMs),
    own: { metric: 'gpu_memory_utilization_percent', labels: { gpu: '0' } },
    module: 'ocr',
    since: now - 120_000,
    now,
    intervalMs: INTERVAL,
  });
  runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const first = runs[0];
runs.sort((a, b) => a - b);
console.log(
  `why is it firing: ${store.size} series × ${store.capacity} points, 10 000 log lines, 100 clients: median ${runs[15].toFixed(1)} ms, max ${runs.at(-1).toFixed(1)} ms over 30 runs, the first (code not yet optimised) ${first.toFixed(1)} ms (goal ≤ 50 ms)`,
);
