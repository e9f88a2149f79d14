// The incident drill imports its presets as an operator would, and sets up nothing fake:
// on a fresh server they notify the console only, so an incident fills the history with
// console notices, not with "channel not configured" ERROR lines.
import { afterEach, describe, expect, it } from 'vitest';
import { importIncidentPresets, INCIDENT_PRESETS } from '../../src/demo/incident-presets.js';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

describe("the demo's incident presets", () => {
  it('notify the console only on a fresh server, and an incident writes no ERROR about channels', async () => {
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false, alertSleep: async () => {} });
    apps.push(app);
    expect(importIncidentPresets(app.alerts!.config)).toEqual(['webhook']);
    const rules = app.alerts!.config.rules;
    expect(rules.map((r) => r.id).sort()).toEqual(INCIDENT_PRESETS.map((id) => `preset:${id}`).sort());
    expect(rules.map((r) => r.channels)).toEqual(rules.map(() => ['console']));
    expect((await (await fetch(`${app.baseUrl}/api/monitor/alerts/channels`)).json()).channels).toEqual([
      { name: 'console', type: 'console', builtIn: true },
    ]);

    // Three minutes of the incident's P95 and 5xx share: both presets fire.
    for (let i = 0; i < 18; i++) {
      clock.advance(10_000);
      app.monitor!.store.record('latency_ms_p95', { endpoint: '*' }, clock(), 9_800);
      app.monitor!.store.record('error_rate_5xx_percent', { endpoint: '*' }, clock(), 7.3);
      app.monitor!.check(clock());
      await app.alerts!.idle();
    }
    expect(app.alerts!.active().map((a) => [a.ruleId, a.state])).toEqual([
      ['preset:p95-latency', 'firing'],
      ['preset:error-rate', 'firing'],
    ]);
    const deliveries = app.alerts!.historyQuery({}).filter((h) => h.kind === 'delivery');
    expect(deliveries.map((h) => `${h.channel} ${h.ok}`)).toEqual(['console true', 'console true']);
    // Each delivery names the rule its notice carried, and a rule's history holds its deliveries.
    expect(deliveries.map((h) => h.ruleIds)).toEqual([['preset:error-rate'], ['preset:p95-latency']]);
    const errorRate = (await (
      await fetch(`${app.baseUrl}/api/monitor/alerts/history?ruleId=${encodeURIComponent('preset:error-rate')}`)
    ).json()) as { history: Array<{ kind: string; ruleIds?: string[] }> };
    expect(errorRate.history.filter((h) => h.kind === 'delivery').map((h) => h.ruleIds)).toEqual([
      ['preset:error-rate'],
    ]);
    expect(app.log.query({ level: 'ERROR' })).toEqual([]);
  });
});
