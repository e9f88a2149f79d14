// POST /v1/chat/completions: OpenAI-compatible, relayed to the upstream model server.
// Streamed answers are passed through event by event while the Monitor reads time to
// first token and usage from them; a client that goes away aborts the upstream request.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import type { ChatStats } from '../metrics/service-stats.js';
import { SseTap } from '../upstream/sse.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { ZodApp } from '../route-schema.js';
import { chatAnswer, chatRequestSchema } from './chat-schema.js';
import { modelRequestOf } from './model-request-hook.js';
import { withTopLevelKeys } from './relay-body.js';

export interface ChatRouteOptions {
  upstream: UpstreamClient;
  /** Null when the Monitor is off. */
  chatStats: ChatStats | null;
  defaultModel: string | undefined;
  clock: () => number;
}

const chatRoute = {
  config: { monitorGroup: 'model', module: 'vlm', keepJsonText: true },
  schema: {
    tags: ['OpenAI'],
    summary: 'Chat about images (OpenAI-compatible); stream: true relays the SSE stream',
    body: chatRequestSchema,
    response: { 200: chatAnswer },
  },
} as const;

export async function chatRoutes(root: FastifyInstance, opts: ChatRouteOptions): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const { upstream, chatStats, clock } = opts;

  app.post('/v1/chat/completions', chatRoute, async (request, reply) => {
    const mr = modelRequestOf(request);
    const { body, payload } = mr.timer.runSync('preprocess', () => {
      const body = request.body;
      const added: Record<string, unknown> = {};
      if (!body.model && opts.defaultModel) added.model = opts.defaultModel;
      // Ask for usage so token counts are known; the extra chunk is removed again below
      // when the client did not ask for it.
      if (body.stream === true && body.stream_options?.include_usage !== true)
        added.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
      // The client's own text goes on (relay-body.ts): the schema only checks, it changes nothing.
      const payload = withTopLevelKeys(request.jsonText, body, added);
      // Not held for the rest of a stream that may last minutes: the payload has what it needs.
      request.jsonText = null;
      // Hashes and sizes of inline images: what an ERROR line about this request names
      // instead of the images themselves. Computed only if such a line is written:
      // hashing megabytes of base64 has no place on every request's path.
      mr.setLazyEvidence(() => {
        const images = inlineImageDigests(body.messages);
        return { hashes: images.map((i) => i.hash), bytes: images.reduce((a, i) => a + i.bytes, 0), dimensions: [] };
      });
      return { body, payload };
    });
    const streamed = body.stream === true;
    const clientWantsUsage = body.stream_options?.include_usage === true;
    // Input tokens from the upstream's usage; estimated (and labelled so) only without it.
    const tokens = (promptTokens: number | null) =>
      promptTokens === null
        ? { inputTokens: estimateInputTokens(body.messages), inputTokensSource: 'estimated' as const }
        : { inputTokens: promptTokens, inputTokensSource: 'upstream' as const };

    // A stream's inference lasts until the model server's last event (finish() ends it then).
    const endInference = mr.timer.start('inference');
    const res = await upstream.postJsonText('/chat/completions', payload, mr.upstreamSignal, mr.requestId);
    const contentType = String(res.headers['content-type'] ?? 'application/json');

    if (!streamed || !contentType.includes('text/event-stream')) {
      const text = await upstream.readText(res);
      endInference();
      const usage = mr.timer.runSync('postprocess', () => usageFromJson(text));
      if (usage) chatStats?.recordUsage(usage.promptTokens, usage.completionTokens);
      mr.succeed({
        ...tokens(usage?.promptTokens ?? null),
        event: 'Chat completion',
        params: () => ({
          stream: false,
          prompt_tokens: usage?.promptTokens ?? null,
          completion_tokens: usage?.completionTokens ?? null,
        }),
      });
      // The model server's status, whatever it is (reply.code() takes only the statuses declared).
      reply.statusCode = res.statusCode;
      return reply.header('content-type', contentType).send(text);
    }

    let firstTokenAt = -1;
    let completionTokens = -1;
    let promptTokens: number | null = null;
    const tap = new SseTap({
      dropUsageChunk: !clientWantsUsage,
      scrub: upstream.scrub,
      onFirstToken: () => {
        firstTokenAt = reply.elapsedTime;
        chatStats?.recordFirstToken(firstTokenAt, clock());
      },
      onUsage: (u) => {
        completionTokens = u.completionTokens;
        promptTokens = u.promptTokens;
        chatStats?.recordUsage(u.promptTokens, u.completionTokens);
      },
    });
    // The model server breaking off (or stalling) mid-answer is its failure, not the
    // client's: the client gets an error event, the Monitor a 502/504 and an ERROR line.
    const upstreamFailed = (error: AppError) => {
      mr.monitorStatus = error.statusCode;
      mr.fail(error);
    };
    tap.on('end', () => {
      mr.responseBytes = tap.bytesOut;
      if (tap.failure) {
        if (!mr.isEnded) upstreamFailed(new AppError('UPSTREAM_STREAM_CUT', tap.failure.message));
        return;
      }
      // Decode speed: tokens after the first over the time after the first.
      const genMs = reply.elapsedTime - firstTokenAt;
      const tps =
        firstTokenAt >= 0 && completionTokens > 1 && genMs > 0 ? (completionTokens - 1) / (genMs / 1_000) : null;
      if (chatStats && tps !== null) chatStats.recordTokensPerSecond(tps, clock());
      mr.succeed({
        ...tokens(promptTokens),
        event: 'Chat completion',
        params: () => ({
          stream: true,
          ttft: firstTokenAt >= 0 ? `${Math.round(firstTokenAt)}ms` : null,
          completion_tokens: completionTokens >= 0 ? completionTokens : null,
          tokens_per_second: tps === null ? null : Math.round(tps * 10) / 10,
        }),
      });
    });
    res.body.on('error', (err) => {
      // Our own abort, because the client left: ModelRequest counts that as 499.
      if (mr.isClientGone) return tap.destroy();
      const error = upstream.mapBodyError(err);
      upstreamFailed(error);
      tap.endWithError(error);
    });
    reply.raw.once('close', () => {
      if (!mr.isEnded)
        mr.fail(new AppError('CLIENT_CLOSED', 'The client closed the stream before its answer was complete'));
    });
    tap.readFrom(res.body);
    reply.statusCode = res.statusCode;
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(tap);
  });
}

/** sha256 prefix and size of every data-URL image (http URLs are the client's to know). */
export function inlineImageDigests(
  messages: ReadonlyArray<{ content?: unknown }>,
): Array<{ hash: string; bytes: number }> {
  const out: Array<{ hash: string; bytes: number }> = [];
  for (const m of messages) {
    if (!Array.isArray(m.content)) continue;
    for (const p of m.content as Array<{ type?: string; image_url?: string | { url?: string } }>) {
      if (p.type !== 'image_url') continue;
      const url = typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
      const comma = url?.startsWith('data:') ? url.indexOf(',') : -1;
      if (!url || comma < 0) continue;
      const bytes = Buffer.from(url.slice(comma + 1), 'base64');
      out.push({ hash: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes: bytes.length });
    }
  }
  return out;
}

/**
 * Input tokens when the upstream reports no usage: text at ~4 characters a token, and
 * each image at the pixel budget's worst case (1280 tokens). Labelled "estimated".
 */
export function estimateInputTokens(messages: ReadonlyArray<{ content?: unknown }>): number {
  let n = 0;
  for (const m of messages) {
    if (typeof m.content === 'string') n += Math.ceil(m.content.length / 4);
    else if (Array.isArray(m.content)) {
      for (const p of m.content as Array<{ type?: string; text?: string }>)
        n += p.type === 'text' ? Math.ceil((p.text ?? '').length / 4) : 1280;
    }
  }
  return n;
}

/**
 * The usage object of a non-streamed answer, without parsing the whole answer: engines put
 * `"usage"` after the choices, so the last occurrence is found from the end and only its
 * object is parsed (a long answer costs a scan, not a parse). A body whose text merely
 * contains the word falls back to parsing the whole.
 */
export function usageFromJson(text: string): { promptTokens: number; completionTokens: number } | null {
  const at = text.lastIndexOf('"usage"');
  if (at < 0) return null;
  const open = text.indexOf('{', at);
  const close = open < 0 ? -1 : text.indexOf('}', open);
  let usage: { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined;
  try {
    // Usage objects are flat in every engine but for nested *_details objects: then parse all.
    const slice = close < 0 ? '' : text.slice(open, close + 1);
    usage =
      slice && !slice.slice(1).includes('{')
        ? (JSON.parse(slice) as typeof usage)
        : (JSON.parse(text) as { usage?: typeof usage }).usage;
  } catch {
    try {
      usage = (JSON.parse(text) as { usage?: typeof usage }).usage;
    } catch {
      // A non-JSON 2xx body is relayed as it is; it simply carries no usage.
      return null;
    }
  }
  if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
    return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
  }
  return null;
}
