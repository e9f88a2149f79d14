// The "last ERROR" a notice carries is about the alert, never about the Monitor's own
// deliveries: the last ERROR of the alert's module (its `module` label or its metric's
// prefix), else of any module but `alert`; the WARN lines before it are of the same module.
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe("a notice's last ERROR", () => {
  it("is the alert's own module's, or another service module's, never a delivery failure", async () => {
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false, alertSleep: async () => {} });
    cleanups.push(() => app.close());
    const notices: any[] = [];
    app.monitor!.hub.broadcast = (type, data: any) => {
      if (type === 'alert') notices.push(...data.alerts);
    };
    const rule = (name: string, metric: string, op: string, threshold: number) =>
      fetch(`${app.baseUrl}/api/monitor/alerts/rules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, metric, op, threshold, consecutiveChecks: 1 }),
      });
    await rule('OCR unsure', 'ocr_confidence_mean', '<', 0.6);
    await rule('Slow', 'latency_ms_p95', '>', 5000);

    app.log.warn('ocr', 'Image preproc failed', { width: 3264, height: 2448 });
    app.log.error('ocr', 'OCR failed', { code: 'UPSTREAM_ERROR' });
    app.log.warn('vlm', 'Slow answer', {});
    app.log.error('vlm', 'Chat failed', { code: 'UPSTREAM_TIMEOUT' });
    // The Monitor's own lines come last: a channel that failed, a per-request alert at ERROR.
    app.log.error('alert', 'alert delivery failed', { channel: 'webhook' });
    app.log.error('alert', 'alert channel not configured', { channel: 'webhook' });

    app.monitor!.store.record('ocr_confidence_mean', {}, clock(), 0.38);
    app.monitor!.store.record('latency_ms_p95', { endpoint: '*' }, clock(), 9_800);
    app.monitor!.check(clock());
    await app.alerts!.idle();

    const byRule = Object.fromEntries(notices.map((n) => [n.ruleName, n.context]));
    expect(byRule['OCR unsure']).toMatchObject({
      lastError: 'ERROR ocr OCR failed code=UPSTREAM_ERROR',
      warningsBefore: ['WARN ocr Image preproc failed width=3264 height=2448'],
    });
    expect(byRule.Slow).toMatchObject({
      lastError: 'ERROR vlm Chat failed code=UPSTREAM_TIMEOUT',
      warningsBefore: ['WARN vlm Slow answer'],
    });
  });
});
