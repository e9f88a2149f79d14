// POST /v1/chat/completions: OpenAI-compatible, relayed to the upstream model server.
// Streamed answers are passed through event by event while the Monitor reads time to
// first token and usage from them; a client that goes away aborts the upstream request.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { abortOnClientClose } from './client-abort.js';
import { AppError } from '../errors.js';
import type { EventLog } from '../log/event-log.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { ModelStats } from '../metrics/model-stats.js';
import type { ChatStats } from '../metrics/service-stats.js';
import { clientId } from './client-id.js';
import { StageTimer } from '../pipeline/stages.js';
import { SseTap } from '../upstream/sse.js';
import type { UpstreamClient } from '../upstream/client.js';
import { parseOrThrow } from '../validation.js';
import { chatRequestSchema } from './chat-schema.js';
import { CLIENT_CLOSED_REQUEST } from './timing.js';

export interface ChatRouteOptions {
  upstream: UpstreamClient;
  /** Null when the Monitor is off. */
  chatStats: ChatStats | null;
  modelStats: ModelStats | null;
  clients: ClientStats | null;
  defaultModel: string | undefined;
  clock: () => number;
  log: EventLog;
}


export async function chatRoutes(app: FastifyInstance, opts: ChatRouteOptions): Promise<void> {
  const { upstream, chatStats, clock } = opts;

  app.post('/v1/chat/completions', { config: { monitorGroup: 'model' } }, async (request, reply) => {
    const timer = new StageTimer('vlm', opts.modelStats, clock);
    const client = clientId(request);
    let finished = false;
    // Accounting for a request that ends here (answered, failed, or abandoned).
    const done = (ok: boolean, promptTokens: number | null) => {
      if (finished) return;
      finished = true;
      endInference();
      timer.finish();
      opts.clients?.record(client, 'vlm', ok, timer.times.inference ?? 0, clock());
      if (ok) {
        // Estimated only when the upstream reported no usage.
        const tokens = promptTokens ?? estimateInputTokens(body.messages);
        opts.modelStats?.inputTokenCount('vlm', tokens, clock(), { client, requestId: request.id, source: promptTokens === null ? 'estimated' : 'upstream' });
      }
    };
    const { body, payload } = await timer.run('preprocess', () => {
      const body = parseOrThrow(chatRequestSchema, request.body);
      const payload: Record<string, unknown> = { ...body };
      if (!body.model && opts.defaultModel) payload.model = opts.defaultModel;
      // Ask for usage so token counts are known; the extra chunk is removed again below
      // when the client did not ask for it.
      if (body.stream === true) payload.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
      // Hashes and sizes of inline images: what an ERROR line about this request names
      // instead of the images themselves. Computed only if such a line is written:
      // hashing megabytes of base64 has no place on every request's path.
      request.logContext = (): Record<string, string> => {
        const images = inlineImageDigests(body.messages);
        return images.length ? { imageHashes: images.map((i) => i.hash).join(','), imageBytes: images.map((i) => i.bytes).join(',') } : {};
      };
      return { body, payload };
    });
    const streamed = body.stream === true;
    const clientWantsUsage = body.stream_options?.include_usage === true;

    const abort = abortOnClientClose(reply);
    let res;
    const endInference = timer.start('inference');
    try {
      res = await upstream.postJson('/chat/completions', payload, abort.signal);
    } catch (err) {
      done(false, null);
      if (abort.signal.aborted) throw new AppError('BAD_REQUEST', 'client closed the request', { statusCode: CLIENT_CLOSED_REQUEST });
      throw err;
    }
    const contentType = String(res.headers['content-type'] ?? 'application/json');

    if (!streamed || !contentType.includes('text/event-stream')) {
      let text: string;
      try {
        text = await res.body.text();
      } catch (err) {
        done(false, null);
        throw upstream.mapError(err);
      }
      endInference();
      const usage = await timer.run('postprocess', () => usageFromJson(text));
      if (usage) chatStats?.recordUsage(usage.promptTokens, usage.completionTokens);
      done(true, usage?.promptTokens ?? null);
      opts.log.info('vlm', 'chat completion', {
        requestId: request.id, client, stream: false, durationMs: Math.round(reply.elapsedTime),
        promptTokens: usage?.promptTokens ?? null, completionTokens: usage?.completionTokens ?? null,
      });
      return reply.code(res.statusCode).header('content-type', contentType).send(text);
    }

    let firstTokenAt = -1;
    let completionTokens = -1;
    let promptTokens: number | null = null;
    const tap = new SseTap({
      dropUsageChunk: !clientWantsUsage,
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
    tap.on('end', () => {
      // Streamed: inference lasts until the upstream's last event.
      endInference();
      // Decode speed: tokens after the first over the time after the first.
      const genMs = reply.elapsedTime - firstTokenAt;
      const tps = firstTokenAt >= 0 && completionTokens > 1 && genMs > 0 ? (completionTokens - 1) / (genMs / 1_000) : null;
      if (chatStats && tps !== null) chatStats.recordTokensPerSecond(tps, clock());
      done(true, promptTokens);
      opts.log.info('vlm', 'chat completion', {
        requestId: request.id, client, stream: true, durationMs: Math.round(reply.elapsedTime),
        ttftMs: firstTokenAt >= 0 ? Math.round(firstTokenAt) : null, completionTokens: completionTokens >= 0 ? completionTokens : null,
        tokensPerSecond: tps === null ? null : Math.round(tps * 10) / 10,
      });
    });
    reply.raw.once('close', () => {
      if (!finished) done(false, null);
    });
    res.body.on('error', (err) => tap.destroy(err));
    res.body.pipe(tap);
    return reply
      .code(res.statusCode)
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(tap);
  });
}

/** sha256 prefix and size of every data-URL image (http URLs are the client's to know). */
export function inlineImageDigests(messages: ReadonlyArray<{ content?: unknown }>): Array<{ hash: string; bytes: number }> {
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
      for (const p of m.content as Array<{ type?: string; text?: string }>) n += p.type === 'text' ? Math.ceil((p.text ?? '').length / 4) : 1280;
    }
  }
  return n;
}

function usageFromJson(text: string): { promptTokens: number; completionTokens: number } | null {
  try {
    const usage = (JSON.parse(text) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
    if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
      return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
    }
  } catch {
    // A non-JSON 2xx body is relayed as it is; it simply carries no usage.
  }
  return null;
}
