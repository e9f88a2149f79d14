// Every log line of an OCR, GUI or video request names its input: the image's (or the
// video's) dimensions and bytes, on the answered lines as on the failures, so that the
// incident's 3264×2448 photos are found by searching, not by eye.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeUpstream, type FakeBehavior } from '../../src/demo/fake-upstream.js';
import type { LogLine } from '../../src/log/event-log.js';
import { postJson, startApp, steppedClock } from '../helpers.js';
import { blackboardPhoto, dataUrl, truncated } from '../pipeline/images.js';
import { mp4 } from '../pipeline/videos.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(behavior: Partial<FakeBehavior> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 2, tokenIntervalMs: 0, ...behavior },
  });
  // Every INFO line kept: each line of a request is looked at.
  const app = await startApp(
    { UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1' },
    { clock: steppedClock(), probes: false },
  );
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app };
}

/** The lines a search finds, oldest first. */
async function linesOf(baseUrl: string, q: string): Promise<LogLine[]> {
  const r = (await (await fetch(`${baseUrl}/api/monitor/logs?limit=1000&q=${encodeURIComponent(q)}`)).json()) as {
    lines: LogLine[];
  };
  return r.lines.reverse();
}

const KiB = (bytes: number) => `${(bytes / 1024).toFixed(1)}KiB`;

describe('the evidence on every line of a model request', () => {
  it('OCR: answered, unsure, cut off or failed, each line names 3264x2448 and its bytes', async () => {
    const { fake, app } = await setup({ tokenLogprob: Math.log(0.95) });
    const photo = await blackboardPhoto(3264, 2448);
    const cut = truncated(photo, 0.6);
    const ocr = (image: Buffer) =>
      postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(image) }, { 'x-client-id': 'c3' });

    const sure = await ocr(photo);
    fake.behavior = { ...fake.behavior, tokenLogprob: Math.log(0.38) };
    const unsure = await ocr(photo);
    const cutOff = await ocr(cut);
    fake.behavior = { ...fake.behavior, errorRate: 1, failStatus: 500 };
    const failed = await ocr(photo);
    expect([sure.status, unsure.status, cutOff.status, failed.status]).toEqual([200, 200, 400, 500]);

    const expected: Array<[typeof sure, string, Buffer]> = [
      [sure, 'INFO ocr OCR done', photo],
      [unsure, 'WARN ocr Low-confidence OCR', photo],
      [cutOff, 'WARN ocr Image preproc failed', cut],
      [failed, 'ERROR ocr Model server error', photo],
    ];
    for (const [res, first, file] of expected) {
      const id = res.headers.get('x-request-id')!;
      // The ERROR line is written once free GPU memory has been read, after the reply.
      const lines = await vi.waitFor(async () => {
        const found = await linesOf(app.baseUrl, `ocr request_id=${id}`);
        expect(found).not.toEqual([]);
        return found;
      });
      expect(`${lines[0]!.level} ${lines[0]!.module} ${lines[0]!.event}`).toBe(first);
      for (const line of lines) {
        expect(line.params, `${line.event} of ${id}`).toMatchObject({
          dimensions: '3264x2448',
          bytes: file.length,
          input_size: KiB(file.length),
        });
      }
    }
    // The incident's photos, found by what they are.
    expect((await linesOf(app.baseUrl, 'WARN ocr dimensions=3264x2448')).map((l) => l.event)).toEqual([
      'Low-confidence OCR',
      'Image preproc failed',
    ]);
  });

  it('GUI: the step and the feedback on it name the screenshot', async () => {
    const tool = (args: object) =>
      `<tool_call>\n${JSON.stringify({ name: 'computer_use', arguments: args })}\n</tool_call>`;
    const { fake, app } = await setup({ reply: tool({ action: 'left_click', coordinate: [100, 100] }) });
    const shot = await blackboardPhoto(1920, 1080);
    const step = await postJson(`${app.baseUrl}/api/gui/execute`, { screenshot: dataUrl(shot), instruction: 'log in' });
    expect(step.json.success).toBe(true);
    await postJson(`${app.baseUrl}/api/gui/feedback`, { stepId: step.json.stepId, success: false, reason: 'no-op' });
    fake.behavior = { ...fake.behavior, reply: 'The button is at the top.' };
    const invalid = await postJson(`${app.baseUrl}/api/gui/execute`, { screenshot: dataUrl(shot), instruction: 'x' });
    expect(invalid.json.success).toBe(false);

    const lines = await linesOf(app.baseUrl, 'gui');
    expect(lines.map((l) => l.event)).toEqual([
      'GUI step executed',
      'GUI action failed when executed',
      'GUI step failed',
    ]);
    for (const line of lines)
      expect(line.params, line.event).toMatchObject({ dimensions: '1920x1080', bytes: shot.length });
  });

  it('video: an uploaded MP4 names its own size and dimensions; frames name theirs and how many', async () => {
    const { app } = await setup({ reply: 'A door opens.' });
    const clip = mp4(10);
    const res = await postJson(`${app.baseUrl}/api/video`, {
      video: `data:video/mp4;base64,${clip.toString('base64')}`,
      question: 'What happens?',
    });
    expect(res.status).toBe(200);
    const [answered] = await linesOf(app.baseUrl, `video request_id=${res.headers.get('x-request-id')}`);
    expect(answered).toMatchObject({
      event: 'Video answered',
      params: { dimensions: '1280x720', bytes: clip.length },
    });

    const frame = await blackboardPhoto(640, 480);
    const frames = Array.from({ length: 20 }, () => dataUrl(frame));
    const sent = await postJson(`${app.baseUrl}/api/video`, { frames, framesFps: 10, question: 'What happens?' });
    expect(sent.json).toMatchObject({ frames: 4, droppedFrames: 16 });
    const lines = await linesOf(app.baseUrl, `video request_id=${sent.headers.get('x-request-id')}`);
    expect(lines.map((l) => l.event)).toEqual(['Dropped video frames', 'Video answered']);
    for (const line of lines)
      expect(line.params, line.event).toMatchObject({ dimensions: '640x480', images: 4, bytes: 4 * frame.length });
  });
});
