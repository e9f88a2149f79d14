// POST /api/gui/execute: a screenshot and an instruction → the next GUI action, in
// Qwen3-VL's computer-use format, parsed and validated. A step succeeds when a valid
// action comes back within GUI_STEP_TIMEOUT_MS; POST /api/gui/feedback lets the client
// report whether executing it worked, which counts too.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { imageBytes } from '../pipeline/image-input.js';
import { GUI_SYSTEM_PROMPT, parseGuiAction } from '../pipeline/gui-action.js';
import { prepareImage } from '../pipeline/preprocess.js';
import { StageTimer } from '../pipeline/stages.js';
import { parseOrThrow } from '../validation.js';
import { abortOnClientClose } from './client-abort.js';
import { clientId } from './client-id.js';
import type { ModelRouteOptions } from './model-route-options.js';

const executeBody = z.object({
  screenshot: z.string({ message: 'required: the screenshot as a data URL, base64 or an http(s) URL' }).min(1),
  instruction: z.string({ message: 'required: what to do, e.g. "log in"' }).min(1).max(4_000),
  history: z.array(z.string().max(1_000)).max(50, { message: 'expected at most 50 earlier steps' }).optional(),
});

const feedbackBody = z.object({
  stepId: z.string({ message: 'required: the stepId an execute call returned' }).min(1),
  success: z.boolean({ message: 'expected true or false' }),
  reason: z.string().max(500).optional(),
});

/** Steps awaiting feedback; bounded: the oldest are forgotten first. */
class StepBook {
  private readonly steps = new Map<string, { valid: boolean; reported: boolean }>();
  constructor(private readonly capacity = 10_000) {}
  add(id: string, valid: boolean): void {
    this.steps.set(id, { valid, reported: false });
    if (this.steps.size > this.capacity) this.steps.delete(this.steps.keys().next().value!);
  }
  get(id: string) {
    return this.steps.get(id);
  }
}

export async function guiRoutes(app: FastifyInstance, opts: ModelRouteOptions): Promise<void> {
  const { upstream, log, clock } = opts;
  const stats = opts.modelStats;
  const book = new StepBook();

  app.post('/api/gui/execute', { config: { monitorGroup: 'model' } }, async (request, reply) => {
    const body = parseOrThrow(executeBody, request.body);
    const timer = new StageTimer('gui', stats, clock);
    const stepId = randomUUID();
    let valid = false;
    try {
      const shot = await timer.run('preprocess', async () =>
        prepareImage(await imageBytes(body.screenshot, 'screenshot', opts.imageLimits), 'screenshot', opts.imageBudget));
      request.logContext = { imageHash: shot.hash, imageBytes: shot.bytes, imageSize: `${shot.originalWidth}x${shot.originalHeight}` };
      const history = (body.history ?? []).map((h, i) => `Step ${i + 1}: ${h}`).join('\n');
      const abort = abortOnClientClose(reply);
      const timeout = AbortSignal.timeout(opts.guiStepTimeoutMs);
      const completion = await timer.run('inference', async () => {
        try {
          const res = await upstream.postJson('/chat/completions', {
            ...(opts.defaultModel ? { model: opts.defaultModel } : {}),
            temperature: 0,
            max_tokens: 512,
            messages: [
              { role: 'system', content: GUI_SYSTEM_PROMPT },
              { role: 'user', content: [
                { type: 'image_url', image_url: { url: shot.dataUrl } },
                { type: 'text', text: `Instruction: ${body.instruction}${history ? `\nEarlier steps:\n${history}` : ''}` },
              ] },
            ],
          }, AbortSignal.any([abort.signal, timeout]));
          return (await res.body.json()) as { choices?: Array<{ message?: { content?: unknown } }>; usage?: { prompt_tokens?: unknown } };
        } catch (err) {
          if (abort.signal.aborted) throw new AppError('BAD_REQUEST', 'client closed the request', { statusCode: 499 });
          if (timeout.aborted) throw new AppError('UPSTREAM_TIMEOUT', `The GUI step took longer than ${opts.guiStepTimeoutMs} ms (GUI_STEP_TIMEOUT_MS)`);
          throw upstream.mapError(err);
        }
      });
      const output = typeof completion.choices?.[0]?.message?.content === 'string' ? completion.choices[0].message.content : '';
      // Coordinates refer to the screenshot as the client sent it, not the resized copy.
      const parsed = await timer.run('postprocess', () => parseGuiAction(output, shot.originalWidth, shot.originalHeight));
      const promptTokens = completion.usage?.prompt_tokens;
      stats?.inputTokenCount('gui', typeof promptTokens === 'number' ? promptTokens : shot.tokens, clock());
      const durationMs = timer.finish();
      valid = parsed.ok;
      book.add(stepId, valid);
      stats?.guiStep(valid, durationMs, clock());
      opts.clients?.record(clientId(request), 'gui', valid, timer.times.inference ?? 0, clock());
      if (!parsed.ok) {
        log.warn('gui', 'GUI step failed', { stepId, reason: parsed.reason, detail: parsed.detail, output, image_hash: shot.hash, client: clientId(request) });
        return { stepId, success: false, reason: parsed.reason, detail: parsed.detail, output: output.slice(0, 512), durationMs, stages: timer.times };
      }
      const a = parsed.action;
      log.info('gui', 'GUI step executed', {
        action: a.type, ...(a.target ? { target: a.target } : {}), ...(a.x !== undefined ? { x: a.x, y: a.y } : {}),
        duration: `${Math.round(durationMs)}ms`, stepId,
      });
      return { stepId, action: a, success: true, durationMs, stages: timer.times };
    } catch (err) {
      // Upstream errors and timeouts are failed steps too (bad input is not: it never ran).
      if (!(err instanceof AppError && err.statusCode < 500 && err.code !== 'UPSTREAM_ERROR')) {
        stats?.guiStep(false, timer.finish(), clock());
        book.add(stepId, false);
        opts.clients?.record(clientId(request), 'gui', false, timer.times.inference ?? 0, clock());
      } else {
        timer.finish();
      }
      throw err;
    }
  });

  app.post('/api/gui/feedback', { config: { monitorGroup: 'model' } }, async (request) => {
    const body = parseOrThrow(feedbackBody, request.body);
    const step = book.get(body.stepId);
    if (!step) throw new AppError('NOT_FOUND', `stepId: no recent step ${body.stepId} (steps are kept for the last 10 000)`, { field: 'stepId' });
    if (step.reported) throw new AppError('CONFLICT', `stepId: step ${body.stepId} already has feedback`, { field: 'stepId' });
    step.reported = true;
    if (!body.success && step.valid) {
      stats?.guiExecutionFailed(clock());
      log.warn('gui', 'GUI action failed when executed', { stepId: body.stepId, reason: body.reason ?? null, client: clientId(request) });
    }
    return { stepId: body.stepId, recorded: true };
  });
}
