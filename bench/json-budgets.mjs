// What a hostile JSON body costs the heap, before and after the JSON budgets (issue 18):
// the 5.7 MiB `[{},{},…]` through JSON.parse, through checkJson, and through the
// body parser as a route sees it; and what the pre-scan costs a real chat body with 20
// images of 1 MiB. Each measurement runs in a fresh process (heap deltas do not mix).
//   npm run build && node bench/json-budgets.mjs
//   OLD_DIST=/path/to/an/older/dist node bench/json-budgets.mjs   # the same, old code beside it
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const NEW_DIST = fileURLToPath(new URL('../dist', import.meta.url));
const MiB = 1024 * 1024;

/** The body: 5.7 MiB of `{},`. */
const attackBody = () => `[${'{},'.repeat(Math.floor((5.7 * MiB) / 3) - 1)}{}]`;

/** A 50-message chat: 20 images of 1 MiB of base64, 8 tool schemas. */
function chatBody() {
  const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(MiB)}` } };
  const messages = Array.from({ length: 50 }, (_, i) =>
    i % 2 === 0
      ? { role: 'user', content: [{ type: 'text', text: `question ${i}` }, ...(i < 40 ? [image] : [])] }
      : { role: 'assistant', content: `answer ${i} `.repeat(50) },
  );
  const tool = (i) => ({
    type: 'function',
    function: {
      name: `tool_${i}`,
      parameters: {
        type: 'object',
        properties: {
          q: { type: 'string' },
          n: { type: 'integer' },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  });
  return JSON.stringify({ messages, tools: Array.from({ length: 8 }, (_, i) => tool(i)) });
}

const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;

async function child(dist, what) {
  const json = await import(pathToFileURL(`${dist}/security/json-body.js`).href);
  const budget = what === 'chat-scan' ? await import(pathToFileURL(`${dist}/security/json-budget.js`).href) : null;
  // Flat, as the server gets it from the socket (a built-up string would be flattened, a copy, on first scan).
  const body = Buffer.from(what === 'chat-scan' || what === 'chat-parse' ? chatBody() : attackBody()).toString();
  const parsed = what === 'checkJson' ? JSON.parse(body) : undefined;
  globalThis.gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  let outcome = 'accepted';
  let kept;
  try {
    if (what === 'JSON.parse' || what === 'chat-parse') kept = JSON.parse(body);
    else if (what === 'checkJson') json.checkJson(parsed);
    else if (what === 'chat-scan') outcome = budget.jsonOverBudget(body) ? 'refused' : 'accepted';
    else if (json.parseJsonBody) kept = json.parseJsonBody(body);
    else {
      // The old parser: JSON.parse, then checkJson.
      kept = JSON.parse(body);
      json.checkJson(kept);
    }
  } catch (err) {
    outcome = `${err.statusCode ?? ''} ${err.message.slice(0, 90)}`;
  }
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  process.send({
    bytes: body.length,
    ms,
    heap: after.heapUsed - before.heapUsed,
    rss: after.rss - before.rss,
    outcome,
    kept: kept === undefined ? 0 : 1,
  });
}

function run(dist, what) {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), ['--child', dist, what], {
      execArgv: ['--expose-gc', '--max-old-space-size=4096'],
    });
    p.once('message', resolve);
    p.once('error', reject);
    p.once('exit', (code) => (code ? reject(new Error(`${what} exited ${code}`)) : undefined));
  });
}

async function main() {
  const builds = [['new', NEW_DIST]];
  if (process.env.OLD_DIST) builds.unshift(['old', process.env.OLD_DIST]);
  console.log('5.7 MiB `[{},{},…]` (heap and RSS grown by the step, before any GC; fresh process each)');
  for (const [name, dist] of builds) {
    for (const what of ['JSON.parse', 'checkJson', 'body parser']) {
      if (what !== 'body parser' && what !== 'checkJson' && name === 'old') continue;
      const r = await run(dist, what);
      console.log(
        `  ${name.padEnd(4)} ${what.padEnd(12)} heap +${mib(r.heap).padStart(10)}  rss +${mib(r.rss).padStart(10)}  ${r.ms.toFixed(0).padStart(5)} ms  ${r.outcome}`,
      );
    }
  }
  console.log('a 50-message chat with 20 images of 1 MiB and 8 tool schemas (the new pre-scan against JSON.parse)');
  for (const what of ['chat-scan', 'chat-parse']) {
    const r = await run(NEW_DIST, what);
    console.log(
      `  ${what.padEnd(12)} ${mib(r.bytes)}  ${r.ms.toFixed(1).padStart(6)} ms (${((r.ms * 1e6) / r.bytes).toFixed(2)} ns/byte)  heap +${mib(r.heap)}  ${r.outcome}`,
    );
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await main();
