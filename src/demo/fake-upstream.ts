// A simulated OpenAI-compatible Qwen3-VL server: a real HTTP server with a realistic
// latency spread, streaming, usage, logprobs, occasional errors and a vLLM-style
// /metrics. The demo runs it; the tests use it as the model server. Everything it
// answers says it is simulated.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeBehavior {
  /** Time before the first token (ms): median of a log-normal spread, or fixed when spread is 0. */
  ttftMs: number;
  /** Time between tokens (ms). */
  tokenIntervalMs: number;
  /** Spread (sigma of the log-normal) applied to ttftMs; 0 = exactly ttftMs. */
  spread: number;
  /** Tokens in each answer. */
  tokens: number;
  /** Share of requests answered with failStatus. */
  errorRate: number;
  failStatus: number;
  /** Delay before sending headers, ms (a hung server when larger than the client's timeout). */
  headerDelayMs: number;
  /** Whether usage is reported (some engines omit it). */
  usage: boolean;
  logprobs: boolean;
  /** Answer with this text instead of the canned one (split into tokens at spaces). */
  reply?: string | undefined;
  /**
   * A thinking model's reasoning, as vLLM gives it: streamed before the answer
   * (`delta.reasoning`, one event a token), or beside it in a whole answer
   * (`message.reasoning`); the old name `reasoning_content` with `reasoningField`. Counted
   * in the completion tokens.
   */
  reasoning?: string | undefined;
  reasoningField?: 'reasoning' | 'reasoning_content' | undefined;
  /** Log-probability of every token when set (e.g. Math.log(0.5) for a 50 % confident answer). */
  tokenLogprob?: number;
  /** The message of simulated failures (e.g. vLLM's "CUDA out of memory. Tried to allocate …"). */
  failMessage?: string;
  /**
   * A model server breaking down mid-answer, after `faultAfterTokens` tokens: `cut` closes the
   * connection, `stall` stops sending and keeps it open, `no-end` ends the body cleanly
   * without a finish_reason or [DONE].
   */
  streamFault?: 'cut' | 'stall' | 'no-end' | undefined;
  faultAfterTokens?: number;
  /** Line end of the SSE stream: LF (default), CRLF or a lone CR, all allowed by the standard. */
  sseLineEnd?: '\n' | '\r\n' | '\r';
}

export const DEFAULT_BEHAVIOR: FakeBehavior = {
  ttftMs: 350,
  tokenIntervalMs: 25,
  spread: 0.6,
  tokens: 24,
  errorRate: 0.02,
  failStatus: 500,
  headerDelayMs: 0,
  usage: true,
  logprobs: true,
};

export const SIMULATED_MODEL = 'Qwen3-VL-8B-Instruct-simulated';

/** Deterministic PRNG (mulberry32), so runs with a seed repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'The',
  ' image',
  ' shows',
  ' a',
  ' login',
  ' page',
  ' with',
  ' a',
  ' blue',
  ' 登录',
  ' button',
  ' in',
  ' the',
  ' lower',
  ' right',
  ' corner',
  ',',
  ' a',
  ' username',
  ' field',
  ' and',
  ' a',
  ' password',
  ' field',
  '.',
];

export interface FakeUpstream {
  url: string; // base URL including /v1
  server: Server;
  behavior: FakeBehavior;
  /** Bodies of the chat requests received, newest last (at most 50). */
  received: unknown[];
  /** Headers of every request received, newest last (at most 50). */
  receivedHeaders: IncomingMessage['headers'][];
  /** Streams whose client went away before the end. */
  abortedStreams: number;
  inFlight: number;
  close(): Promise<void>;
}

export async function startFakeUpstream(
  opts: { port?: number; seed?: number; behavior?: Partial<FakeBehavior> } = {},
): Promise<FakeUpstream> {
  const random = seededRandom(opts.seed ?? 42);
  const state = {
    behavior: { ...DEFAULT_BEHAVIOR, ...opts.behavior },
    received: [] as unknown[],
    receivedHeaders: [] as IncomingMessage['headers'][],
    abortedStreams: 0,
    inFlight: 0,
    kvCache: 0.2,
    requestsTotal: 0,
    preemptions: 0,
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // No timer at all for 0 ms: setTimeout(0) waits a whole millisecond, which would swamp the proxy benchmark.
  const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(err) } }));
    });
  });

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const simulated = { 'x-simulated': 'true' };
    state.receivedHeaders.push(req.headers);
    if (state.receivedHeaders.length > 50) state.receivedHeaders.shift();
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json', ...simulated });
      res.end(
        JSON.stringify({ object: 'list', data: [{ id: SIMULATED_MODEL, object: 'model', owned_by: 'simulator' }] }),
      );
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', ...simulated });
      res.end(vllmMetrics());
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      const body = JSON.parse(await readBody(req)) as { input?: unknown };
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      res.writeHead(200, { 'content-type': 'application/json', ...simulated });
      res.end(
        JSON.stringify({
          object: 'list',
          model: SIMULATED_MODEL,
          data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.1, 0.2, 0.3] })),
        }),
      );
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json', ...simulated });
      res.end(
        JSON.stringify({ error: { message: `simulator has no route ${req.method} ${path}`, type: 'NotFoundError' } }),
      );
      return;
    }
    const text = await readBody(req);
    let body: {
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
      messages?: unknown[];
      logprobs?: boolean;
    };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json', ...simulated });
      res.end(JSON.stringify({ error: { message: 'invalid JSON', type: 'BadRequestError' } }));
      return;
    }
    state.received.push(body);
    if (state.received.length > 50) state.received.shift();
    state.requestsTotal++;
    const b = state.behavior;
    if (b.headerDelayMs > 0) await sleep(b.headerDelayMs);
    if (random() < b.errorRate) {
      res.writeHead(b.failStatus, { 'content-type': 'application/json', ...simulated });
      res.end(
        JSON.stringify({
          error: {
            message: b.failMessage ?? `simulated failure (${b.failStatus})`,
            type: 'InternalServerError',
            code: b.failStatus,
          },
        }),
      );
      return;
    }
    state.inFlight++;
    state.kvCache = Math.min(0.95, state.kvCache + 0.03);
    try {
      await answer(body, res, simulated);
    } finally {
      state.inFlight--;
      state.kvCache = Math.max(0.05, state.kvCache - 0.03);
    }
  }

  async function answer(
    body: { stream?: boolean; stream_options?: { include_usage?: boolean }; messages?: unknown[]; logprobs?: boolean },
    res: ServerResponse,
    simulated: Record<string, string>,
  ): Promise<void> {
    const b = state.behavior;
    const ttft = b.spread > 0 ? b.ttftMs * Math.exp(b.spread * normal()) : b.ttftMs;
    const id = `chatcmpl-sim-${state.requestsTotal}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = estimatePromptTokens(body.messages);
    const tokens =
      b.reply !== undefined
        ? tokenize(b.reply)
        : wantsToolCall(body.messages)
          ? tokenize(GUI_REPLY)
          : Array.from({ length: b.tokens }, (_, i) => WORDS[i % WORDS.length] ?? '');
    const thoughts = b.reasoning !== undefined ? tokenize(b.reasoning) : [];
    const reasoningField = b.reasoningField ?? 'reasoning';
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: thoughts.length + tokens.length,
      total_tokens: promptTokens + thoughts.length + tokens.length,
    };
    const logprobOf = () => b.tokenLogprob ?? Math.log(0.75 + random() * 0.25);

    if (!body.stream) {
      await sleep(ttft + b.tokenIntervalMs * tokens.length);
      const choice: Record<string, unknown> = {
        index: 0,
        message: {
          role: 'assistant',
          content: tokens.join(''),
          ...(thoughts.length ? { [reasoningField]: thoughts.join('') } : {}),
        },
        finish_reason: 'stop',
      };
      if (b.logprobs && body.logprobs)
        choice.logprobs = { content: tokens.map((t) => ({ token: t, logprob: logprobOf() })) };
      const json = JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: SIMULATED_MODEL,
        choices: [choice],
        ...(b.usage ? { usage } : {}),
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(json),
        ...simulated,
      });
      if (b.streamFault === 'cut') {
        // Half the answer, then the connection drops (a crashed engine).
        res.write(json.slice(0, json.length >> 1));
        res.socket?.destroy();
        return;
      }
      res.end(json);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...simulated });
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        state.abortedStreams++;
      }
    });
    const eol = b.sseLineEnd ?? '\n';
    /** One chunk event: the envelope every chunk of this answer shares, around its choices. */
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: SIMULATED_MODEL, choices, ...extra })}${eol}${eol}`,
      );
    send([{ index: 0, delta: { role: 'assistant', content: '' } }]);
    await sleep(ttft);
    for (const t of thoughts) {
      if (closed) return;
      send([{ index: 0, delta: { [reasoningField]: t }, finish_reason: null }]);
      await sleep(b.tokenIntervalMs);
    }
    let sent = 0;
    for (const t of tokens) {
      if (closed) return;
      if (b.streamFault && sent++ === (b.faultAfterTokens ?? 0)) {
        if (b.streamFault === 'cut') res.socket?.destroy();
        else if (b.streamFault === 'no-end') res.end();
        // 'stall': nothing more is sent; the connection stays open until the client gives up.
        return;
      }
      const choice: Record<string, unknown> = { index: 0, delta: { content: t }, finish_reason: null };
      if (b.logprobs && body.logprobs) choice.logprobs = { content: [{ token: t, logprob: logprobOf() }] };
      send([choice]);
      await sleep(b.tokenIntervalMs);
    }
    if (closed) return;
    send([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    if (b.usage && body.stream_options?.include_usage) send([], { usage });
    res.end(`data: [DONE]${eol}${eol}`);
  }

  function vllmMetrics(): string {
    const m = `model_name="${SIMULATED_MODEL}"`;
    return [
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      `vllm:num_requests_running{${m}} ${state.inFlight}`,
      '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
      '# TYPE vllm:num_requests_waiting gauge',
      `vllm:num_requests_waiting{${m}} 0`,
      '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
      '# TYPE vllm:kv_cache_usage_perc gauge',
      `vllm:kv_cache_usage_perc{${m}} ${state.kvCache.toFixed(3)}`,
      '# HELP vllm:num_preemptions_total Cumulative number of preemptions from the engine.',
      '# TYPE vllm:num_preemptions_total counter',
      `vllm:num_preemptions_total{${m}} ${state.preemptions}`,
      '',
    ].join('\n');
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    server,
    get behavior() {
      return state.behavior;
    },
    set behavior(b: FakeBehavior) {
      state.behavior = b;
    },
    received: state.received,
    receivedHeaders: state.receivedHeaders,
    get abortedStreams() {
      return state.abortedStreams;
    },
    get inFlight() {
      return state.inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Qwen3-VL computer-use answer: click at (512, 300) on the 0–1000 grid. */
const GUI_REPLY =
  '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [512, 300]}}\n</tool_call>';

function tokenize(text: string): string[] {
  return text.split(/(?<= )/);
}

function wantsToolCall(messages: unknown[] | undefined): boolean {
  return JSON.stringify(messages ?? []).includes('computer_use');
}

/** Text at ~4 characters a token, images at Qwen3-VL's default budget of 256 tokens. */
function estimatePromptTokens(messages: unknown[] | undefined): number {
  let n = 0;
  for (const m of messages ?? []) {
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') n += Math.ceil(content.length / 4);
    else if (Array.isArray(content)) {
      for (const p of content as Array<{ type?: string; text?: string }>)
        n += p.type === 'text' ? Math.ceil((p.text ?? '').length / 4) : 256;
    }
  }
  return Math.max(1, n);
}
