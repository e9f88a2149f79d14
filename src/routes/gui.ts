// POST /api/gui/execute: a screenshot and an instruction → the next GUI action, in
// Qwen3-VL's computer-use format, parsed and validated. A step succeeds when a valid
// action comes back within GUI_STEP_TIMEOUT_MS; POST /api/gui/feedback lets the client
// report whether executing it worked, which counts too.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { GUI_ACTIONS, GUI_SYSTEM_PROMPT, parseGuiAction } from '../pipeline/gui-action.js';
import { stageTimesSchema } from '../pipeline/stages.js';
import type { ZodApp } from '../route-schema.js';
import { clientId } from './client-id.js';
import { modelRequestOf } from './model-request-hook.js';
import type { ModelRouteOptions } from './model-route-options.js';
import { type Completion, completionSchema } from '../upstream/completion.js';

export const executeBody = z.object({
  screenshot: z.string({ message: 'required: the screenshot as a data URL, base64 or an http(s) URL' }).min(1),
  instruction: z.string({ message: 'required: what to do, e.g. "log in"' }).min(1).max(4_000),
  history: z.array(z.string().max(1_000)).max(50, { message: 'expected at most 50 earlier steps' }).optional(),
});

/** What POST /api/gui/execute answers: the handler's answers are typed by it, and the API description says it. */
export const guiAnswer = z.discriminatedUnion('success', [
  z.object({
    stepId: z.string(),
    success: z.literal(true),
    action: z.object({
      type: z.enum(GUI_ACTIONS),
      x: z.number().optional().describe('Pixels on the screenshot as the client sent it'),
      y: z.number().optional(),
      toX: z.number().optional(),
      toY: z.number().optional(),
      text: z.string().optional(),
      keys: z.array(z.string()).optional(),
      pixels: z.number().optional(),
      target: z.string().optional(),
    }),
    durationMs: z.number(),
    stages: stageTimesSchema,
    degraded: z.literal(true).optional(),
    degradedReason: z.string().optional(),
  }),
  z.object({
    stepId: z.string(),
    success: z.literal(false),
    reason: z.enum(['invalid_output', 'unknown_action', 'out_of_bounds', 'missing_argument']),
    detail: z.string(),
    output: z.string().describe("The model's answer, its first 512 characters"),
    durationMs: z.number(),
    stages: stageTimesSchema,
    degraded: z.literal(true).optional(),
    degradedReason: z.string().optional(),
  }),
]);
export type GuiAnswer = z.infer<typeof guiAnswer>;

export const feedbackBody = z.object({
  stepId: z.string({ message: 'required: the stepId an execute call returned' }).min(1),
  success: z.boolean({ message: 'expected true or false' }),
  reason: z.string().max(500).optional(),
});

/**
 * Steps awaiting feedback, each with its screenshot's evidence (the feedback's log line
 * names it too); bounded: the oldest are forgotten first.
 */
class StepBook {
  private readonly steps = new Map<
    string,
    { valid: boolean; reported: boolean; evidence: Record<string, string | number> }
  >();
  constructor(private readonly capacity = 10_000) {}
  add(id: string, valid: boolean, evidence: Record<string, string | number>): void {
    this.steps.set(id, { valid, reported: false, evidence });
    if (this.steps.size > this.capacity) {
      const oldest = this.steps.keys().next();
      if (!oldest.done) this.steps.delete(oldest.value);
    }
  }
  get(id: string) {
    return this.steps.get(id);
  }
}

export async function guiRoutes(root: FastifyInstance, opts: ModelRouteOptions): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const { upstream, log, clock } = opts;
  const stats = opts.modelStats;
  const book = new StepBook();

  const executeRoute = {
    config: { monitorGroup: 'model', module: 'gui' },
    schema: {
      tags: ['Model'],
      summary: 'The next GUI action for a screenshot and an instruction',
      body: executeBody,
      response: { 200: guiAnswer },
    },
  } as const;
  app.post('/api/gui/execute', executeRoute, async (request) => {
    const mr = modelRequestOf(request);
    const stepId = randomUUID();
    // The model server's failures and timeouts are failed steps too; bad input is not (it never ran).
    mr.onEnd((e) => {
      if (e.answered || !(e.error.statusCode >= 500 || e.error.code === 'UPSTREAM_ERROR')) return;
      stats?.guiStep(false, mr.timer.times.total ?? 0, clock());
      book.add(stepId, false, mr.inputEvidence());
    });
    const body = request.body;
    const shot = await mr.timer.run('preprocess', () =>
      mr.image(body.screenshot, 'screenshot', opts.imageLimits, opts.imageBudget),
    );
    const history = (body.history ?? []).map((h, i) => `Step ${i + 1}: ${h}`).join('\n');
    // A plain timer, cleared when the step ends: nothing left to fire (or to be collected) later.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), opts.guiStepTimeoutMs);
    let completion: Completion;
    try {
      completion = await mr.timer.run('inference', async () => {
        try {
          const res = await upstream.postJson(
            '/chat/completions',
            {
              ...(opts.defaultModel ? { model: opts.defaultModel } : {}),
              temperature: 0,
              max_tokens: 512,
              messages: [
                { role: 'system', content: GUI_SYSTEM_PROMPT },
                {
                  role: 'user',
                  content: [
                    { type: 'image_url', image_url: { url: shot.dataUrl } },
                    {
                      type: 'text',
                      text: `Instruction: ${body.instruction}${history ? `\nEarlier steps:\n${history}` : ''}`,
                    },
                  ],
                },
              ],
            },
            AbortSignal.any([mr.clientGone, deadline.signal]),
            mr.requestId,
          );
          return await upstream.readJson(res, completionSchema, 'a chat completion');
        } catch (err) {
          if (deadline.signal.aborted && !mr.clientGone.aborted) {
            throw new AppError(
              'UPSTREAM_TIMEOUT',
              `The GUI step took longer than ${opts.guiStepTimeoutMs} ms (GUI_STEP_TIMEOUT_MS)`,
            );
          }
          throw err;
        }
      });
    } finally {
      clearTimeout(timer);
    }
    const output =
      typeof completion.choices?.[0]?.message?.content === 'string' ? completion.choices[0].message.content : '';
    // Coordinates refer to the screenshot as the client sent it, not the resized copy.
    const parsed = await mr.timer.run('postprocess', () =>
      parseGuiAction(output, shot.originalWidth, shot.originalHeight),
    );
    const promptTokens = completion.usage?.prompt_tokens;
    const tokens = {
      inputTokens: typeof promptTokens === 'number' ? promptTokens : shot.tokens,
      inputTokensSource: typeof promptTokens === 'number' ? ('upstream' as const) : ('estimated' as const),
    };
    if (!parsed.ok) {
      const durationMs = mr.succeed({
        ...tokens,
        ok: false,
        level: 'WARN',
        event: 'GUI step failed',
        params: { step_id: stepId, reason: parsed.reason, detail: parsed.detail, output, image_hash: shot.hash },
      });
      stats?.guiStep(false, durationMs, clock());
      book.add(stepId, false, mr.inputEvidence());
      const refused: GuiAnswer = {
        stepId,
        success: false,
        reason: parsed.reason,
        detail: parsed.detail,
        output: output.slice(0, 512),
        durationMs,
        stages: mr.timer.times,
        ...mr.degradation(),
      };
      return refused;
    }
    const a = parsed.action;
    const durationMs = mr.succeed({
      ...tokens,
      event: 'GUI step executed',
      params: {
        action: a.type,
        ...(a.target ? { target: a.target } : {}),
        ...(a.x !== undefined ? { x: a.x, y: a.y } : {}),
        step_id: stepId,
      },
    });
    stats?.guiStep(true, durationMs, clock());
    book.add(stepId, true, mr.inputEvidence());
    const answer: GuiAnswer = {
      stepId,
      action: a,
      success: true,
      durationMs,
      stages: mr.timer.times,
      ...mr.degradation(),
    };
    return answer;
  });

  const feedbackRoute = {
    config: { monitorGroup: 'model' },
    schema: {
      tags: ['Model'],
      summary: "Whether executing a step's action worked",
      body: feedbackBody,
      response: { 200: z.object({ stepId: z.string(), recorded: z.literal(true) }) },
    },
  } as const;
  app.post('/api/gui/feedback', feedbackRoute, async (request) => {
    const body = request.body;
    const step = book.get(body.stepId);
    if (!step)
      throw new AppError('NOT_FOUND', `stepId: no recent step ${body.stepId} (steps are kept for the last 10 000)`, {
        field: 'stepId',
      });
    if (step.reported)
      throw new AppError('CONFLICT', `stepId: step ${body.stepId} already has feedback`, { field: 'stepId' });
    step.reported = true;
    if (!body.success && step.valid) {
      stats?.guiExecutionFailed(clock());
      log.warn('gui', 'GUI action failed when executed', {
        step_id: body.stepId,
        reason: body.reason ?? null,
        ...step.evidence,
        client: clientId(request),
      });
    }
    return { stepId: body.stepId, recorded: true as const };
  });
}
