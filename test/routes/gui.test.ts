import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeBehavior } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(behavior: Partial<FakeBehavior> = {}, env: Record<string, string> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 2, tokenIntervalMs: 0, ...behavior },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1', ...env }, { clock, probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app, clock };
}

const screenshot = async () =>
  `data:image/png;base64,${(
    await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#f0f0f0' } })
      .png()
      .toBuffer()
  ).toString('base64')}`;

const tool = (args: object) =>
  `<tool_call>\n${JSON.stringify({ name: 'computer_use', arguments: args })}\n</tool_call>`;

describe('POST /api/gui/execute', () => {
  it('returns a validated click in screenshot pixels and logs the step', async () => {
    const { fake, app } = await setup({
      reply: tool({ action: 'left_click', coordinate: [512, 300], target: '登录按钮' }),
    });
    const res = await postJson(`${app.baseUrl}/api/gui/execute`, {
      screenshot: await screenshot(),
      instruction: 'log in',
      history: ['opened the app'],
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ success: true, action: { type: 'click', x: 983, y: 324, target: '登录按钮' } });
    expect(res.json.stepId).toMatch(/^[0-9a-f-]{36}$/);
    const sent = fake.received.at(-1) as any;
    expect(sent.messages[0].content).toContain('computer_use');
    expect(sent.messages[1].content[1].text).toContain('Step 1: opened the app');
    const line = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?module=gui`)).json()) as any).lines[0];
    expect(line.event).toBe('GUI step executed');
    expect(line.params).toMatchObject({ action: 'click', target: '登录按钮', x: 983, y: 324 });
    expect(line.params.duration).toMatch(/^\d+ms$/);
  });

  it('counts invalid answers, timeouts and failed executions against the success rate', async () => {
    // A step time limit far above a fast step's time on a loaded machine, and a slow step far above it.
    const { fake, app, clock } = await setup({}, { GUI_STEP_TIMEOUT_MS: '2000' });
    const shot = await screenshot();
    const exec = () => postJson(`${app.baseUrl}/api/gui/execute`, { screenshot: shot, instruction: 'open settings' });
    fake.behavior = { ...fake.behavior, reply: tool({ action: 'left_click', coordinate: [100, 100] }) };
    const ok1 = await exec();
    const ok2 = await exec();
    fake.behavior = { ...fake.behavior, reply: 'The settings icon is at the top right.' };
    const bad = await exec();
    expect(bad.json).toMatchObject({ success: false, reason: 'invalid_output' });
    fake.behavior = { ...fake.behavior, reply: tool({ action: 'left_click', coordinate: [1500, 100] }) };
    expect((await exec()).json).toMatchObject({ success: false, reason: 'out_of_bounds' });
    fake.behavior = { ...fake.behavior, headerDelayMs: 8_000 };
    const slow = await exec();
    expect(slow.status).toBe(504);
    expect(slow.json.error.message).toContain('GUI_STEP_TIMEOUT_MS');
    // The client reports that the first click did not work.
    const fb = await postJson(`${app.baseUrl}/api/gui/feedback`, {
      stepId: ok1.json.stepId,
      success: false,
      reason: 'nothing happened',
    });
    expect(fb.status).toBe(200);
    expect(
      (await postJson(`${app.baseUrl}/api/gui/feedback`, { stepId: ok1.json.stepId, success: false })).status,
    ).toBe(409);
    expect((await postJson(`${app.baseUrl}/api/gui/feedback`, { stepId: 'nope', success: true })).status).toBe(404);
    expect(
      (await postJson(`${app.baseUrl}/api/gui/feedback`, { stepId: ok2.json.stepId, success: 'yes' })).json.error.field,
    ).toBe('success');

    clock.advance(1000);
    app.monitor!.check(clock());
    const last = async (metric: string) =>
      ((await (await fetch(`${app.baseUrl}/api/monitor/series?metric=${metric}`)).json()) as any).series[0].points.at(
        -1,
      )[1];
    // 5 steps: 2 valid, one of which failed when executed → 1 success.
    expect(await last('gui_step_success_rate')).toBeCloseTo(20, 10);
    expect(await last('gui_step_avg_duration')).toBeGreaterThan(0);
  });

  it('answers a hostile model answer as an invalid step: an unclosed tag, a prototype name', async () => {
    // The adversarial run's answer: the old pattern never finished, and /healthz went unanswered.
    const { fake, app } = await setup({ reply: `<tool_call>${' '.repeat(20_000)}x` });
    const shot = await screenshot();
    const exec = () => postJson(`${app.baseUrl}/api/gui/execute`, { screenshot: shot, instruction: 'log in' });
    const unclosed = await exec();
    expect(unclosed.status).toBe(200);
    expect(unclosed.json).toMatchObject({ success: false, reason: 'invalid_output' });
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
    fake.behavior = { ...fake.behavior, reply: tool({ action: 'toString', coordinate: [1, 1] }) };
    expect((await exec()).json).toMatchObject({
      success: false,
      reason: 'unknown_action',
      detail: 'unknown action "toString"',
    });
  });

  it('rejects a bad request without counting a GUI step', async () => {
    const { app, clock } = await setup();
    const res = await postJson(`${app.baseUrl}/api/gui/execute`, { screenshot: await screenshot() });
    expect(res.json.error.field).toBe('instruction');
    clock.advance(1000);
    app.monitor!.check(clock());
    expect(
      ((await (await fetch(`${app.baseUrl}/api/monitor/series?metric=gui_step_success_rate`)).json()) as any).series,
    ).toHaveLength(0);
  });
});
