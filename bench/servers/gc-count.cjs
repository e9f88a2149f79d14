// Preloaded into a server by relay-gc.mjs (`node -r`): its garbage collections by kind,
// counted from the moment the parent says 'gc-start', answered on 'gc-report'.
const { PerformanceObserver, constants } = require('node:perf_hooks');

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
let sums = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = KINDS[e.detail?.kind] ?? 'other';
    sums[kind] ??= { count: 0, ms: 0 };
    sums[kind].count++;
    sums[kind].ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
process.on('message', (m) => {
  if (m === 'gc-start') {
    sums = {};
    process.send('gc-started');
  }
  if (m === 'gc-report') process.send(JSON.stringify(sums));
});
