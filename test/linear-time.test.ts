// Every parser of text a client or the model server controls does work linear in it (or
// less): each is fed adversarial input of 128 KiB and of 1 MiB, and the time for the large
// one over the time for the small one must stay under 24 (linear is 8, quadratic 64; the
// margin is for caches, which hold the small input and not the large one, for garbage
// collection and for a machine busy with other tests). A ratio of times, never a
// wall-clock limit: a loaded machine slows both alike.
import { describe, expect, it } from 'vitest';
import { withoutTrailingSlashes, siteFromLink } from '../src/alerts/alert-site.js';
import { alertsEndpoint } from '../src/alerts/notifiers/alertmanager.js';
import { rulesYaml } from '../src/alerts/prometheus-rules.js';
import { ruleInputSchema, type Rule } from '../src/alerts/rule-schema.js';
import { parseDuration } from '../src/duration.js';
import { parseGuiAction } from '../src/pipeline/gui-action.js';
import { meanTokenProbability } from '../src/pipeline/logprobs.js';
import { parsePrometheusText } from '../src/probes/prometheus-text.js';
import { JSON_BUDGETS } from '../src/security/json-budget.js';
import { SseTap } from '../src/upstream/sse.js';
import { zodValidator } from '../src/route-schema.js';

/** The rule route's validation, as Fastify runs it (route-schema.ts). */
const ruleValidator = zodValidator({
  schema: ruleInputSchema,
  method: 'POST',
  url: '/api/monitor/alerts/rules',
  httpPart: 'body',
});
const refusesRule = (r: unknown) => 'error' in (ruleValidator(r) as object);

const SMALL = 128 * 1024;
const LARGE = 1024 * 1024;
const MAX_GROWTH = 24;

/** How long `reps` calls take. */
async function timeOf(run: () => unknown, reps: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < reps; i++) await run();
  return performance.now() - t;
}

/**
 * time(input of LARGE) / time(input of SMALL): each repeated until the small one takes
 * ~5 ms, the two timed in turn five times, the fastest of each kept (what the machine's
 * other work added least to).
 */
async function growth<T>(make: (size: number) => T, run: (input: T) => unknown): Promise<number> {
  const small = make(SMALL);
  const large = make(LARGE);
  await run(small);
  await run(large);
  let reps = 1;
  while (reps < 1 << 16 && (await timeOf(() => run(small), reps)) < 5) reps *= 2;
  let fastSmall = Infinity;
  let fastLarge = Infinity;
  for (let r = 0; r < 5; r++) {
    fastSmall = Math.min(fastSmall, await timeOf(() => run(small), reps));
    fastLarge = Math.min(fastLarge, await timeOf(() => run(large), reps));
  }
  return fastLarge / fastSmall;
}

/** Runs `bytes` through an SSE tap in 1 KiB network chunks and waits for its end. */
async function relaySse(bytes: Buffer): Promise<void> {
  const tap = new SseTap({ dropUsageChunk: false });
  tap.resume();
  const ended = new Promise((resolve) => tap.on('end', resolve));
  for (let i = 0; i < bytes.length; i += 1024) tap.feed(bytes.subarray(i, i + 1024));
  tap.finish();
  await ended;
}

/** The same, the whole of it as one network read (what a fast model server's answer is). */
async function relaySseWhole(bytes: Buffer): Promise<void> {
  const tap = new SseTap({ dropUsageChunk: false });
  tap.resume();
  const ended = new Promise((resolve) => tap.on('end', resolve));
  tap.finish(bytes);
  await ended;
}

const rule = (input: object): Rule => ({ id: 'r', ...ruleInputSchema.parse(input) });
const base = { metric: 'gpu_temperature_celsius', op: '>', threshold: 85 };

const cases: Array<[string, (size: number) => unknown, (input: never) => unknown]> = [
  // The model's answer to a GUI step (an unclosed tag once took minutes).
  [
    'tool call: unclosed tag and spaces',
    (n) => `<tool_call>${' '.repeat(n)}x`,
    (s: string) => parseGuiAction(s, 1920, 1080),
  ],
  ['tool call: braces without an end', (n) => '{'.repeat(n), (s: string) => parseGuiAction(s, 1920, 1080)],
  ['tool call: tags without an end', (n) => '<tool_call>'.repeat(n / 11), (s: string) => parseGuiAction(s, 1920, 1080)],
  [
    'tool call: a huge argument',
    (n) => `<tool_call>{"name":"computer_use","arguments":{"action":"type","text":"${'a'.repeat(n)}"}}</tool_call>`,
    (s: string) => parseGuiAction(s, 100, 100),
  ],
  // A rule's durations (27 s for 120 000 spaces once).
  ['duration: spaces', (n) => `1${' '.repeat(n)}x`, (s: string) => parseDuration(s)],
  ['duration: digits', (n) => '9'.repeat(n), (s: string) => parseDuration(s)],
  // The model server's stream (an event without its end was re-scanned on every chunk).
  ['SSE: one event without its end', (n) => Buffer.from(`data: ${'x'.repeat(n - 6)}`), relaySse],
  ['SSE: blank lines only', (n) => Buffer.from('\r\n'.repeat(n / 2)), relaySse],
  ['SSE: many small events', (n) => Buffer.from('data: {"choices":[]}\n\n'.repeat(n / 22)), relaySse],
  // After the first token, each key the Monitor reads an event for was searched for to the
  // end of the read again: a read full of them cost its length times their number.
  [
    'SSE: a read full of error events after the first token',
    (n) =>
      Buffer.from(
        `data: {"choices":[{"delta":{"content":"a"}}]}\n\n${'data: {"error":{"message":"m"}}\n\n'.repeat(n / 33)}`,
      ),
    relaySseWhole,
  ],
  // An OCR answer's logprobs.
  [
    'logprobs',
    (n) => ({ logprobs: { content: Array.from({ length: n / 16 }, (_, i) => ({ logprob: i % 3 ? -0.1 : 710 })) } }),
    (c: never) => meanTokenProbability(c),
  ],
  // A rule as the API takes it: each over-long part refused, the error small.
  [
    'rule: a long label name',
    (n) => ({ ...base, name: 'r', labels: { ['k'.repeat(n)]: '0' } }),
    (r: unknown) => expect(refusesRule(r)).toBe(true),
  ],
  [
    'rule: a long label value',
    (n) => ({ ...base, name: 'r', labels: { gpu: '\ud800'.repeat(n) } }),
    (r: unknown) => expect(refusesRule(r)).toBe(true),
  ],
  [
    'rule: a long name and for',
    (n) => ({ ...base, name: 'x'.repeat(n), for: ' '.repeat(n) }),
    (r: unknown) => expect(refusesRule(r)).toBe(true),
  ],
  // As many keys as the edge lets an object have (JSON_BUDGETS.width: more are refused before
  // parsing): past a few thousand, V8's own walk over an object's keys grows faster than
  // they do (for…in and Object.keys alike: 31× the time for 8× the keys at 16 384), and
  // zod's strict check walks them once.
  [
    'rule: many unknown keys',
    (n) => ({
      ...base,
      name: 'r',
      ...Object.fromEntries(Array.from({ length: Math.min(n / 64, JSON_BUDGETS.width) }, (_, i) => [`k${i}`, 1])),
    }),
    (r: unknown) => expect(refusesRule(r)).toBe(true),
  ],
  // The Prometheus export of many accepted rules full of characters to escape.
  [
    'export: rules with text to escape',
    (n) =>
      Array.from({ length: n / 512 }, (_, i) =>
        rule({ ...base, name: `${'\u007f"{{\u2028'.repeat(39)}${i}`, labels: { gpu: '\\"\u0085'.repeat(80) } }),
      ),
    (rules: Rule[]) =>
      rulesYaml(rules, { intervalMs: 10_000, windowMs: 60_000, modelEndpoints: [], histogramEndpoint: () => false }),
  ],
  // The model server's /metrics page (a run of name characters in braces was tried from every position).
  [
    'engine metrics: a run of label-name characters',
    (n) => `m{${'a'.repeat(n)}} 1`,
    (s: string) => parsePrometheusText(s),
  ],
  ['engine metrics: many labels', (n) => `m{${'k="v",'.repeat(n / 6)}} 1`, (s: string) => parsePrometheusText(s)],
  // URLs of channels and links.
  ['trailing slashes', (n) => `http://am${'/'.repeat(n)}x${'/'.repeat(n)}`, (s: string) => withoutTrailingSlashes(s)],
  ['Alertmanager URL of slashes', (n) => `http://am:9093${'/'.repeat(n)}x`, (s: string) => alertsEndpoint(s)],
  ['link of hashes', (n) => `http://h/${'#'.repeat(n)}\n`, (s: string) => siteFromLink(s, 'h')],
];

describe('parsers of untrusted text take linear time', () => {
  for (const [name, make, run] of cases) {
    it(name, async () => {
      // A busy machine can push one measurement past the line (24.1 once, with another suite
      // running beside it); a quadratic parser is past it every time (~64). So: the least of
      // up to three measurements.
      let g = Infinity;
      for (let attempt = 0; attempt < 3 && g >= MAX_GROWTH; attempt++)
        g = Math.min(g, await growth(make, run as (input: unknown) => unknown));
      if (process.env.SHOW_GROWTH) console.info(`${name}: ${g.toFixed(2)}`);
      expect(g, `time(1 MiB) / time(128 KiB) = ${g.toFixed(2)}`).toBeLessThan(MAX_GROWTH);
    });
  }
});
