import { afterEach, describe, expect, it } from 'vitest';
import { startApp, steppedClock, type TestApp } from '../helpers.js';
import { fakeNvml } from '../fake-nvml/build.js';

const MiB = 1024 * 1024;
const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

describe('resource layer in the Monitor', () => {
  it('shows the worst GPU on the cards, every GPU in the API, and exports gauges in base units', async () => {
    const fake = fakeNvml('current');
    fake.reset(2);
    fake.setMemory(0, 81559 * MiB, 20000 * MiB, 0);
    fake.setMemory(1, 81559 * MiB, 76000 * MiB, 0); // 93.2 %: past the tutorial's 92 %
    fake.setUtil(0, 99, 10);
    fake.setUtil(1, 40, 10);
    fake.setTemp(1, 71);
    const clock = steppedClock();
    const app = await startApp({ NVML_LIBRARY: fake.path }, { clock });
    apps.push(app);
    await app.monitor!.tick(clock());

    const snap = (await (await fetch(`${app.baseUrl}/api/monitor/snapshot`)).json()) as any;
    const mem = snap.cards.find((c: any) => c.id === 'gpu_memory');
    expect(mem).toMatchObject({ labels: { gpu: '1' }, status: 'crit', unit: '%' });
    expect(mem.value).toBeCloseTo((76000 / 81559) * 100, 10);
    expect(mem.detail.gpu0).toBeCloseTo((20000 / 81559) * 100, 10);
    expect(snap.cards.find((c: any) => c.id === 'gpu_utilization')).toMatchObject({
      value: 99,
      labels: { gpu: '0' },
      status: 'crit',
    });

    const gpus = (await (await fetch(`${app.baseUrl}/api/monitor/gpus`)).json()) as any;
    expect(gpus.available).toBe(true);
    expect(gpus.gpus).toHaveLength(2);
    expect(gpus.library).toBe(fake.path);

    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    // NVML's uuid and board name beside the index, as DCGM's exporter labels its series.
    const board = (i: number) =>
      `gpu="${i}",uuid="GPU-fake-0000-0000-0000-00000000000${i}",model_name="NVIDIA H100 80GB HBM3 (fake ${i})"`;
    expect(metrics).toContain(`qwen3vl_gpu_memory_used_bytes{${board(1)}} ${76000 * MiB}`);
    expect(metrics).toContain(`qwen3vl_gpu_utilization_ratio{${board(0)}} 0.99`);
    expect(metrics).toContain(`qwen3vl_gpu_temperature_celsius{${board(1)}} 71`);
    expect(metrics).toContain(`qwen3vl_gpu_available{${board(0)}} 1`);
    expect(metrics).toMatch(/qwen3vl_host_memory_utilization_ratio|qwen3vl_memory_utilization_ratio \d/);

    // A lost GPU: gpu_available drops to 0 (still naming the board) and the card keeps showing the other.
    fake.setLost(1, 1);
    clock.advance(10_000);
    await app.monitor!.tick(clock());
    const after = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(after).toContain(`qwen3vl_gpu_available{${board(1)}} 0`);
    const snap2 = (await (await fetch(`${app.baseUrl}/api/monitor/snapshot`)).json()) as any;
    expect(snap2.cards[0]).toMatchObject({ labels: { gpu: '0' } });
  });

  it('says why the GPU cards are empty when there is no NVIDIA library', async () => {
    const clock = steppedClock();
    const app = await startApp({ NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' }, { clock });
    apps.push(app);
    await app.monitor!.tick(clock());
    const snap = (await (await fetch(`${app.baseUrl}/api/monitor/snapshot`)).json()) as any;
    expect(snap.cards[0]).toMatchObject({ status: 'unavailable', value: null });
    expect(snap.cards[0].reason).toBe('no NVIDIA GPU: /nonexistent/libnvidia-ml.so.1 not found');
    // The host probe still feeds its series.
    const series = (await (
      await fetch(`${app.baseUrl}/api/monitor/series?metric=memory_utilization_percent`)
    ).json()) as any;
    expect(series.series[0].points).toHaveLength(1);
  });
});
