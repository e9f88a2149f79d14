import { afterEach, describe, expect, it } from 'vitest';
import { INCIDENT_LOOP, PHASES, phaseAt } from '../../src/demo/scenario.js';
import { SIMULATED_GPU_NAME, SimulatedGpus } from '../../src/demo/simulated-gpus.js';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

describe('the demo', () => {
  it('shows simulated GPUs on the cards, labelled as simulated, following the incident', async () => {
    const clock = steppedClock();
    const gpus = new SimulatedGpus({ count: 2 });
    const app = await startApp({}, { clock, gpu: gpus, simulated: true });
    apps.push(app);
    gpus.setLoad(PHASES.normal.gpus);
    await app.monitor!.tick(clock());
    const calm = app.monitor!.lastSnapshot()!.cards;
    expect(calm[1]).toMatchObject({
      id: 'gpu_utilization',
      status: 'ok',
      detail: { gpuCount: 2, gpuName: SIMULATED_GPU_NAME, simulated: 'simulated' },
    });
    expect(calm[1]!.value).toBeLessThan(50);

    gpus.setLoad(PHASES.incident.gpus);
    await app.monitor!.tick(clock.advance(10_000));
    const [memory, util] = app.monitor!.lastSnapshot()!.cards;
    expect(util!.value).toBeGreaterThanOrEqual(95);
    expect(Math.round(memory!.value!)).toBeGreaterThanOrEqual(71);
    expect(Math.round(memory!.value!)).toBeLessThanOrEqual(73);
    const api = (await (await fetch(`${app.baseUrl}/api/monitor/gpus`)).json()) as any;
    expect(api).toMatchObject({ available: true, simulated: true, library: 'simulated' });
    // NVML-like samples between checks: ten seconds at one every ~1/6 s.
    expect(api.gpus[0].samples.count).toBeGreaterThanOrEqual(59);
    expect(api.gpus[0].samples.secondsAbove).toBeGreaterThan(5);
  });

  it('plays calm, then the incident, on a loop', () => {
    const minute = 60_000;
    expect([0, 3.9, 4.1, 6.9, 7.1, 11.1].map((m) => phaseAt(m * minute, INCIDENT_LOOP))).toEqual([
      'normal',
      'normal',
      'incident',
      'incident',
      'normal',
      'incident',
    ]);
  });
});
