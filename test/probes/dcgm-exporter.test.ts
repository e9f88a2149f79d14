// GPUs read from DCGM exporters (GPU_METRICS_URL): the page in dcgm-exporter's own format,
// served by real HTTP servers, read into the readings NVML gives; hosts that go away, pages
// that are slow, too large or not DCGM's; and the cards, series, /metrics and alert rules
// of the real app fed by them.
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DcgmGpuSource, readDcgmPage } from '../../src/probes/dcgm-exporter.js';
import { dcgmPage, H100_TOTAL_MIB, h100, startDcgmExporter } from '../dcgm-exporter.js';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A server on 127.0.0.1 answering with `handler`; its /metrics URL. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
}

describe("a DCGM exporter's page", () => {
  it('becomes the readings NVML gives: memory as nvidia-smi counts it, every field in its unit', () => {
    const page = dcgmPage(
      [
        h100(0, 1, {
          fbUsed: 74_000,
          util: 97,
          memCopyUtil: 41,
          temp: 61,
          power: 512.345,
          smClock: 1980,
          xid: 79,
          // Time-slicing: two pods on one GPU, one line each with the same values.
          pods: [
            { namespace: 'llm', pod: 'qwen3-vl-0', container: 'vllm' },
            { namespace: 'llm', pod: 'qwen3-vl-1', container: 'vllm' },
          ],
        }),
        // MIG: an instance's lines (GPU_I_ID) are not a GPU of their own.
        h100(1, 1, { mig: [{ id: 13, profile: '1g.10gb', grEngineActive: 0.99563 }] }),
      ],
      { hostname: 'gpu-node-1' },
    );
    expect(page).toContain(
      'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-1a7c2e4f-8d1b-4c3e-9f2a-000000000000",pci_bus_id="00000000:17:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="550.90.07",container="vllm",namespace="llm",pod="qwen3-vl-0"} 512.345000',
    );
    const r = readDcgmPage(page, 'gpu-node-1');
    expect(r.driverVersion).toBe('550.90.07');
    expect(r.dropped).toBe(0);
    expect(r.readings).toHaveLength(2);
    const g = r.readings[0]!;
    // The numbers test/probes/gpu-poller.test.ts reads for the same board through NVML.
    expect(g).toEqual({
      index: 0,
      host: 'gpu-node-1',
      name: 'NVIDIA H100 80GB HBM3',
      uuid: 'GPU-1a7c2e4f-8d1b-4c3e-9f2a-000000000000',
      pciBusId: '00000000:17:00.0',
      exporterHostname: 'gpu-node-1',
      memoryUsedMiB: 74_000,
      memoryTotalMiB: H100_TOTAL_MIB,
      memoryReservedMiB: 479,
      memoryUtilizationPercent: (74_000 / H100_TOTAL_MIB) * 100,
      utilizationPercent: 97,
      memoryBandwidthUtilizationPercent: 41,
      temperatureCelsius: 61,
      powerWatts: 512.345,
      smClockMHz: 1980,
      memoryClockMHz: 2619,
      lastXid: 79,
      pcieTxKiBps: 33_011_804 / 1024,
      pcieRxKiBps: 97_863_601 / 1024,
      pods: [
        { namespace: 'llm', pod: 'qwen3-vl-0', container: 'vllm' },
        { namespace: 'llm', pod: 'qwen3-vl-1', container: 'vllm' },
      ],
      errors: {},
    });
    expect(r.readings[1]).toMatchObject({ index: 1, memoryUsedMiB: 0, utilizationPercent: 0 });
    expect(r.readings[1]!.pods).toBeUndefined();
  });

  it("reads older exporters' pages: no pci_bus_id, no FB_RESERVED, empty pod labels", () => {
    // As NVIDIA's documentation prints an A100's page, and as exporters before 3.x label GPUs no pod holds.
    const r = readDcgmPage(
      [
        '# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).',
        '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",device="nvidia0",Hostname="ub20-a100-k8s",container="",namespace="",pod=""} 87',
        'DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",device="nvidia0",Hostname="ub20-a100-k8s",container="",namespace="",pod=""} 61',
        'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",device="nvidia0",Hostname="ub20-a100-k8s",container="",namespace="",pod=""} 409.692000',
        'DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",device="nvidia0",Hostname="ub20-a100-k8s",container="",namespace="",pod=""} 35690',
        'DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",device="nvidia0",Hostname="ub20-a100-k8s",container="",namespace="",pod=""} 4845',
        '',
      ].join('\n'),
      'a100-box',
    );
    expect(r.readings).toEqual([
      {
        index: 0,
        host: 'a100-box',
        uuid: 'GPU-34319582-d595-d1c7-d1d2-179bcfa61660',
        exporterHostname: 'ub20-a100-k8s',
        memoryUsedMiB: 4845,
        memoryTotalMiB: 4845 + 35_690,
        memoryUtilizationPercent: (4845 / (4845 + 35_690)) * 100,
        utilizationPercent: 87,
        temperatureCelsius: 61,
        powerWatts: 409.692,
        errors: {},
      },
    ]);
  });

  it('reads at most maxGpus GPUs, and nothing from a page that is not DCGM', () => {
    const page = dcgmPage([h100(0, 1), h100(1, 1), h100(2, 1)], { hostname: 'n' });
    const r = readDcgmPage(page, 'n', 2);
    expect(r.readings.map((g) => g.index)).toEqual([0, 1]);
    expect(r.dropped).toBe(1);
    expect(readDcgmPage('vllm:num_requests_running{engine="0"} 3\n', 'n').readings).toEqual([]);
  });
});

describe('GPUs from DCGM exporters over HTTP', () => {
  it('reads two hosts at once, their GPU 0 two GPUs; a host that goes away is its GPUs missing and a reason', async () => {
    const node1 = await startDcgmExporter(cleanups, [h100(0, 1, { util: 12 }), h100(1, 1)], 'gpu-node-1');
    const node2 = await startDcgmExporter(cleanups, [h100(0, 2, { util: 88 }), h100(1, 2)], 'gpu-node-2');
    const source = new DcgmGpuSource({
      targets: [
        { host: 'gpu-node-1', url: node1.url },
        { host: 'gpu-node-2', url: node2.url },
      ],
    });
    const r = await source.poll(0);
    expect(r.available).toBe(true);
    expect(r.reason).toBeUndefined();
    expect(r.readings.map((g) => [g.host, g.index, g.utilizationPercent])).toEqual([
      ['gpu-node-1', 0, 12],
      ['gpu-node-1', 1, 0],
      ['gpu-node-2', 0, 88],
      ['gpu-node-2', 1, 0],
    ]);
    expect(r.driverVersion).toBe('550.90.07');
    expect(r.hosts).toMatchObject([
      { host: 'gpu-node-1', url: node1.url, available: true, gpus: 2, driverVersion: '550.90.07' },
      { host: 'gpu-node-2', url: node2.url, available: true, gpus: 2 },
    ]);
    expect(r.missing).toEqual([]);

    // A GPU leaves one page: missing at that check, then forgotten (as NVML forgets a GPU after re-initialising).
    node1.gpus.pop();
    expect((await source.poll(1)).missing).toEqual(['gpu-node-1/1']);
    expect((await source.poll(2)).missing).toEqual([]);

    // The second host goes down: its GPUs are missing at every check while it is.
    await node2.stop();
    const down = await source.poll(3);
    expect(down.available).toBe(true);
    expect(down.readings.map((g) => `${g.host}/${g.index}`)).toEqual(['gpu-node-1/0']);
    expect(down.missing).toEqual(['gpu-node-2/0', 'gpu-node-2/1']);
    // The kept-alive connection is cut ("other side closed"), then connections are refused.
    expect(down.reason!.startsWith(`GPU source unavailable: DCGM exporter at gpu-node-2 (${node2.url}): `)).toBe(true);
    expect(down.hosts![1]).toMatchObject({ available: false, gpus: 0 });
    const still = await source.poll(4);
    expect(still.missing).toEqual(['gpu-node-2/0', 'gpu-node-2/1']);
    expect(still.hosts![1]!.reason).toContain('ECONNREFUSED');

    // Both down: no GPU, and why.
    await node1.stop();
    const none = await source.poll(5);
    expect(none.available).toBe(false);
    expect(none.readings).toEqual([]);
    expect(none.reason).toContain('DCGM exporter at gpu-node-1');
    expect(none.reason).toContain('DCGM exporter at gpu-node-2');
    expect(await source.freeMemoryNow()).toBeNull();
  });

  it('says when one URL answers for other GPUs from one check to the next (a Service in front of several nodes)', async () => {
    const node = await startDcgmExporter(cleanups, [h100(0, 1)], 'gpu-node-1');
    const source = new DcgmGpuSource({ targets: [{ host: 'gpus', url: node.url }] });
    expect((await source.poll(0)).reason).toBeUndefined();
    node.gpus = [h100(0, 2)]; // the balancer picked the other node's exporter
    const r = await source.poll(1);
    expect(r.available).toBe(true);
    expect(r.reason).toContain('gpus: GPU 0 has another UUID than at the previous check');
    expect(r.reason).toContain("list each node's exporter instead");
  });

  it('bounds each page: a timeout for the whole answer, a byte budget, a number of GPUs', async () => {
    // Headers at once, then a body that never ends: the timeout covers the body too.
    const stalled = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n');
    });
    const huge = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(
        dcgmPage(
          Array.from({ length: 40 }, (_, i) => h100(i, 3)),
          { hostname: 'big' },
        ),
      );
    });
    const r = await new DcgmGpuSource({ targets: [{ host: 'stalled', url: stalled }], timeoutMs: 200 }).poll(0);
    expect(r.available).toBe(false);
    expect(r.hosts).toMatchObject([{ host: 'stalled', available: false, reason: 'no answer within 200 ms' }]);
    expect(r.hosts![0]!.readMs).toBeGreaterThanOrEqual(190);
    // The byte budget under a timeout a loaded 2-core CI machine cannot miss (200 ms once did).
    const big = await new DcgmGpuSource({
      targets: [{ host: 'big', url: huge }],
      timeoutMs: 10_000,
      maxBytes: 64 * 1024,
    }).poll(0);
    expect(big.available).toBe(false);
    expect(big.hosts).toMatchObject([
      { host: 'big', available: false, reason: 'the answer is larger than 65536 bytes' },
    ]);

    const node1 = await startDcgmExporter(cleanups, [h100(0, 1), h100(1, 1)], 'gpu-node-1');
    const node2 = await startDcgmExporter(cleanups, [h100(0, 2), h100(1, 2)], 'gpu-node-2');
    const capped = await new DcgmGpuSource({
      targets: [
        { host: 'gpu-node-1', url: node1.url },
        { host: 'gpu-node-2', url: node2.url },
      ],
      maxGpus: 3,
    }).poll(0);
    expect(capped.readings.map((g) => `${g.host}/${g.index}`)).toEqual([
      'gpu-node-1/0',
      'gpu-node-1/1',
      'gpu-node-2/0',
    ]);
    expect(capped.reason).toBe('1 GPU(s) of gpu-node-2 not read: at most 3 GPUs are read in all');
  });

  it('says what a page that is not a DCGM exporter is', async () => {
    const missing = await serve((_req, res) => res.writeHead(404).end('404 page not found\n'));
    const vllm = await serve((_req, res) => res.end('vllm:num_requests_running{engine="0"} 3\n'));
    const r = await new DcgmGpuSource({
      targets: [
        { host: 'a', url: missing },
        { host: 'b', url: vllm },
      ],
    }).poll(0);
    expect(r.available).toBe(false);
    expect(r.hosts!.map((h) => h.reason)).toEqual([
      'answered 404',
      'no GPU on the page (no DCGM_FI_DEV_ metric with a gpu label): is it a DCGM exporter?',
    ]);
  });
});

describe('the Monitor on DCGM readings (GPU_METRICS_URL)', () => {
  const api = async (app: TestApp, path: string, method = 'GET') => {
    const res = await fetch(`${app.baseUrl}${path}`, { method });
    return (await res.json()) as any;
  };

  it('shows the cards, series, /metrics and alerts NVML readings give, each GPU named by its host', async () => {
    const node1 = await startDcgmExporter(
      cleanups,
      [h100(0, 1, { fbUsed: 20_000, util: 99 }), h100(1, 1, { fbUsed: 30_000, util: 40, temp: 71 })],
      'gpu-node-1',
    );
    const node2 = await startDcgmExporter(
      cleanups,
      [h100(0, 2, { fbUsed: 76_000, util: 50 }), h100(1, 2, { fbUsed: 10_000, util: 5 })],
      'gpu-node-2',
    );
    const clock = steppedClock();
    const app = await startApp(
      { GPU_METRICS_URL: `gpu-node-1=${node1.url}, gpu-node-2=${node2.url}` },
      { clock, alertSleep: async () => {} },
    );
    cleanups.push(() => app.close());
    for (const preset of ['gpu-memory-pressure', 'gpu-lost'])
      await api(app, `/api/monitor/alerts/presets/${preset}/import`, 'POST');
    const tick = async () => {
      clock.advance(10_000);
      await app.monitor!.tick(clock());
      await app.alerts!.idle();
    };
    await tick();

    // The fullest GPU of all hosts on the memory card, the busiest on the utilisation card.
    const snap = await api(app, '/api/monitor/snapshot');
    const mem = snap.cards.find((c: any) => c.id === 'gpu_memory');
    expect(mem).toMatchObject({ labels: { gpu: 'gpu-node-2/0' }, status: 'crit' });
    expect(mem.value).toBeCloseTo((76_000 / H100_TOTAL_MIB) * 100, 10);
    expect(mem.detail).toMatchObject({
      gpu: 'gpu-node-2/0',
      gpuCount: 4,
      gpuName: 'NVIDIA H100 80GB HBM3',
      source: 'dcgm',
      host: 'gpu-node-2',
      gpuIndex: 0,
      usedMiB: 76_000,
      totalMiB: H100_TOTAL_MIB,
    });
    expect(mem.detail['gpu-node-1/gpu0']).toBeCloseTo((20_000 / H100_TOTAL_MIB) * 100, 10);
    expect(snap.cards.find((c: any) => c.id === 'gpu_utilization')).toMatchObject({
      value: 99,
      labels: { gpu: 'gpu-node-1/0' },
      detail: { source: 'dcgm', host: 'gpu-node-1', gpuIndex: 0 },
    });

    const gpus = await api(app, '/api/monitor/gpus');
    expect(gpus).toMatchObject({ available: true, source: 'dcgm', library: null, driverVersion: '550.90.07' });
    expect(gpus.gpus.map((g: any) => `${g.host}/${g.index}`)).toEqual([
      'gpu-node-1/0',
      'gpu-node-1/1',
      'gpu-node-2/0',
      'gpu-node-2/1',
    ]);
    expect(gpus.hosts.map((h: any) => [h.host, h.available, h.gpus])).toEqual([
      ['gpu-node-1', true, 2],
      ['gpu-node-2', true, 2],
    ]);

    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toContain(`qwen3vl_gpu_memory_used_bytes{gpu="gpu-node-2/0"} ${76_000 * MiB}`);
    expect(metrics).toContain(`qwen3vl_gpu_memory_used_bytes{gpu="gpu-node-1/0"} ${20_000 * MiB}`);
    expect(metrics).toContain('qwen3vl_gpu_utilization_ratio{gpu="gpu-node-1/0"} 0.99');
    expect(metrics).toContain('qwen3vl_gpu_temperature_celsius{gpu="gpu-node-1/1"} 71');
    expect(metrics).toContain('qwen3vl_gpu_available{gpu="gpu-node-2/1"} 1');

    // "GPU memory sustained pressure": > 90 % for 3 checks, on node 2's GPU 0 only.
    await tick();
    await tick();
    const active = (await api(app, '/api/monitor/alerts/active')).alerts;
    expect(active.map((a: any) => [a.ruleName, a.state, a.labels])).toEqual([
      ['GPU memory sustained pressure', 'firing', { gpu: 'gpu-node-2/0' }],
    ]);

    // Node 2 goes away: its GPUs leave the cards at once and "GPU lost" fires for each.
    await node2.stop();
    await tick();
    const lost = (await api(app, '/api/monitor/alerts/active')).alerts.filter((a: any) => a.ruleName === 'GPU lost');
    expect(lost.map((a: any) => [a.state, a.labels.gpu])).toEqual([
      ['firing', 'gpu-node-2/0'],
      ['firing', 'gpu-node-2/1'],
    ]);
    const after = await api(app, '/api/monitor/snapshot');
    const mem2 = after.cards.find((c: any) => c.id === 'gpu_memory');
    expect(mem2).toMatchObject({ labels: { gpu: 'gpu-node-1/1' }, detail: { 'gpu-node-2/gpu0': null } });
    expect((await (await fetch(`${app.baseUrl}/metrics`)).text()).toString()).toContain(
      'qwen3vl_gpu_available{gpu="gpu-node-2/0"} 0',
    );

    // Both gone: the cards say why, as they do without NVML.
    await node1.stop();
    await tick();
    const empty = (await api(app, '/api/monitor/snapshot')).cards.find((c: any) => c.id === 'gpu_memory');
    expect(empty).toMatchObject({ status: 'unavailable', value: null });
    expect(empty.reason).toMatch(
      /^GPU source unavailable: DCGM exporter at gpu-node-1 \(http:\/\/127\.0\.0\.1:\d+\/metrics\): /,
    );
  });
});
