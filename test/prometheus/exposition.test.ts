// /metrics as Prometheus' own linter and a fleet's dashboards see it: `promtool check
// metrics` clean with every family populated, names and values in base units by the
// catalogue's unit, Node's default metrics under their stock names, the model layer.
import { type IncomingHttpHeaders, request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { catalogue } from '../../src/metrics/catalogue.js';
import { MODEL_ERROR_CODES, MODULES } from '../../src/metrics/model-stats.js';
import { prometheusName } from '../../src/metrics/prometheus-names.js';
import { fakeNvml } from '../fake-nvml/build.js';
import { postJson, startApp, steppedClock, userMessage } from '../helpers.js';
import { PROMTOOL, runTool } from './real-programs.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const MiB = 1024 * 1024;

/** A GET whose body comes back as sent (fetch would ask for gzip and undo it unseen). */
function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((done, fail) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    })
      .on('error', fail)
      .end();
  });
}
const png = async (w: number, h: number) =>
  `data:image/png;base64,${(
    await sharp({ create: { width: w, height: h, channels: 3, background: '#ddd' } })
      .png()
      .toBuffer()
  ).toString('base64')}`;
const tool = (args: object) =>
  `<tool_call>\n${JSON.stringify({ name: 'computer_use', arguments: args })}\n</tool_call>`;

/** A WebUI after traffic on every module, one check, and a fake NVML with two GPUs. */
async function busyApp() {
  const nvml = fakeNvml('current');
  nvml.reset(2);
  nvml.setMemory(0, 24576 * MiB, 14280 * MiB, 0);
  nvml.setMemory(1, 24576 * MiB, 1000 * MiB, 0);
  const fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 0, ttftMs: 2, tokenIntervalMs: 0 } });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, NVML_LIBRARY: nvml.path }, { clock });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  const base = app.baseUrl;
  await postJson(`${base}/v1/chat/completions`, userMessage());
  await postJson(`${base}/v1/chat/completions`, { ...userMessage(), stream: true });
  await postJson(`${base}/v1/chat/completions`, { messages: 'not a list' });
  fake.behavior = { ...fake.behavior, reply: 'Invoice 2026-11 总计 ¥128' };
  await postJson(`${base}/api/ocr`, { image: await png(320, 200) });
  await postJson(`${base}/api/ocr`, { image: 'data:image/png;base64,AAAA' }); // unreadable
  fake.behavior = { ...fake.behavior, reply: tool({ action: 'left_click', coordinate: [500, 500] }) };
  const shot = await png(1280, 800);
  await postJson(`${base}/api/gui/execute`, { screenshot: shot, instruction: 'open settings' });
  fake.behavior = { ...fake.behavior, reply: 'no idea' };
  await postJson(`${base}/api/gui/execute`, { screenshot: shot, instruction: 'open settings' });
  fake.behavior = { ...fake.behavior, reply: 'A door opens.' };
  await postJson(`${base}/api/video`, {
    frames: await Promise.all([0, 1, 2, 3].map(() => png(64, 48))),
    question: 'What happens?',
  });
  await app.monitor!.tick(clock());
  return { app, clock, fake };
}

describe('/metrics for Prometheus', () => {
  it('passes promtool check metrics with every family populated', async () => {
    const { app } = await busyApp();
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    for (const family of [
      'qwen3vl_http_request_duration_seconds_bucket',
      'qwen3vl_chat_time_to_first_token_seconds_bucket',
      'qwen3vl_inference_duration_seconds_bucket',
      'qwen3vl_input_tokens_bucket',
      'qwen3vl_ocr_confidence_ratio_bucket',
      'qwen3vl_video_frames_per_second_bucket',
      'qwen3vl_model_errors_total{',
      'qwen3vl_gpu_memory_used_bytes{',
      'qwen3vl_upstream_requests_running{',
      'qwen3vl_http_response_size_bytes_bucket',
      'nodejs_heap_space_size_used_bytes',
      'qwen3vl_event_loop_delay_max_seconds ',
      'qwen3vl_event_loop_delay_p99_seconds ',
    ]) {
      expect(text, family).toContain(family);
    }
    const lint = runTool(PROMTOOL, ['check', 'metrics'], text);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });

  it('exports the model layer as counters and histograms a user can check against the Monitor', async () => {
    const { app, clock } = await busyApp();
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(text).toContain('qwen3vl_gui_steps_total{outcome="valid"} 1');
    expect(text).toContain('qwen3vl_gui_steps_total{outcome="invalid"} 1');
    expect(text).toContain('qwen3vl_images_preprocessed_total{module="ocr",outcome="ok"} 1');
    expect(text).toContain('qwen3vl_images_preprocessed_total{module="ocr",outcome="failed"} 1');
    expect(text).toContain('qwen3vl_images_preprocessed_total{module="video",outcome="ok"} 4');
    expect(text).toMatch(/qwen3vl_model_errors_total\{module="ocr",code="IMAGE_UNREADABLE"\} 1/);
    expect(text).toContain('qwen3vl_inference_duration_seconds_count{module="gui",stage="total"} 2');
    expect(text).toContain('qwen3vl_video_frames_per_second_count 1');
    // The Monitor's GUI success rate is valid steps over all steps.
    expect(app.monitor!.store.latest('gui_step_success_rate', {})!.v).toBe(50);
    // Frames given to the model: the video answer's 4, then 8 more.
    expect(text).toMatch(/^qwen3vl_video_frames_total 4$/m);
    app.monitor!.model.videoSpeed(12.5, clock(), 8);
    expect(await (await fetch(`${app.baseUrl}/metrics`)).text()).toMatch(/^qwen3vl_video_frames_total 12$/m);
  });

  it("labels GPU series with NVML's uuid and board name, as DCGM's exporter does; ECC errors are a counter", async () => {
    const nvml = fakeNvml('current');
    nvml.reset(2);
    nvml.setMemory(1, 24576 * MiB, 1000 * MiB, 0);
    nvml.setEcc(1, 3);
    const clock = steppedClock();
    const app = await startApp({ NVML_LIBRARY: nvml.path }, { clock });
    cleanups.push(() => app.close());
    await app.monitor!.tick(clock());
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const gpu1 = 'gpu="1",uuid="GPU-fake-0000-0000-0000-000000000001",model_name="NVIDIA H100 80GB HBM3 (fake 1)"';
    expect(text).toContain(`qwen3vl_gpu_memory_used_bytes{${gpu1}} ${1000 * MiB}`);
    expect(text).toContain(`qwen3vl_gpu_available{${gpu1}} 1`);
    // Every GPU series carries them, no host series does.
    const gpuLines = text.split('\n').filter((l) => l.startsWith('qwen3vl_gpu_'));
    expect(gpuLines.length).toBeGreaterThan(10);
    for (const line of gpuLines)
      expect(line).toMatch(/\{gpu="[01]",uuid="GPU-fake-[^"]+",model_name="NVIDIA H100[^"]+"\}/);
    expect(text).not.toMatch(/^qwen3vl_(cpu|memory|load)_[^{]*\{[^}]*uuid=/m);
    // NVML's count since the driver loaded, as a counter; the Monitor keeps its own name and value.
    expect(text).toMatch(/^# TYPE qwen3vl_gpu_ecc_uncorrected_errors_total counter$/m);
    expect(text).toContain(`qwen3vl_gpu_ecc_uncorrected_errors_total{${gpu1}} 3`);
    expect(text).not.toContain('qwen3vl_gpu_ecc_uncorrected_volatile');
    expect(app.monitor!.store.latest('gpu_ecc_uncorrected_volatile', { gpu: '1' })!.v).toBe(3);
    expect(runTool(PROMTOOL, ['check', 'metrics'], text).output).toBe('');
  });

  it('names and scales by the catalogue unit: io_pressure_some_avg10 (percent) is a 0-1 ratio', async () => {
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false });
    cleanups.push(() => app.close());
    app.monitor!.store.record('io_pressure_some_avg10', {}, clock(), 37.5);
    app.monitor!.store.record('gpu_memory_used_mib', { gpu: '0' }, clock(), 1024);
    app.monitor!.store.record('gpu_sm_clock_mhz', { gpu: '0' }, clock(), 1980);
    app.monitor!.store.record('gpu_pcie_rx_kibps', { gpu: '0' }, clock(), 2);
    app.monitor!.store.record('event_loop_delay_max_ms', {}, clock(), 13_200);
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(text).toContain('qwen3vl_io_pressure_some_avg10_ratio 0.375');
    expect(text).toContain(`qwen3vl_gpu_memory_used_bytes{gpu="0"} ${1024 * MiB}`);
    expect(text).toContain('qwen3vl_gpu_sm_clock_hertz{gpu="0"} 1980000000');
    expect(text).toContain('qwen3vl_gpu_pcie_rx_bytes_per_second{gpu="0"} 2048');
    // Milliseconds become seconds: a loop held 13.2 s.
    expect(text).toContain('qwen3vl_event_loop_delay_max_seconds 13.2');
    expect(text).toMatch(/^# TYPE qwen3vl_event_loop_delay_max_seconds gauge$/m);
    // Every share of the catalogue is exported as a ratio, every MiB as bytes.
    for (const def of catalogue.values()) {
      const { name } = prometheusName(def.name);
      if (def.unit === '%') expect(name, def.name).toMatch(/_ratio$/);
      if (def.unit === 'MiB') expect(name, def.name).toMatch(/_bytes$/);
      expect(name, def.name).not.toMatch(/_percent|_mib|_mhz|_kibps/);
    }
    // A reading older than three checks is absent, never a stale value.
    clock.advance(60_000);
    expect(await (await fetch(`${app.baseUrl}/metrics`)).text()).not.toContain(
      'qwen3vl_io_pressure_some_avg10_ratio 0.375',
    );
  });

  it('times the model endpoints and the routes the operator names; counts every other route; the Monitor times all', async () => {
    const fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 0, ttftMs: 2, tokenIntervalMs: 0 } });
    const clock = steppedClock();
    const app = await startApp(
      { UPSTREAM_URL: fake.url, METRICS_HISTOGRAM_ROUTES: '/healthz, /api/monitor/alerts/*' },
      { clock, probes: false },
    );
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    // Before any traffic: the model routes' request counters are there, at 0.
    const first = await (await fetch(`${app.baseUrl}/metrics`)).text();
    for (const [endpoint, method] of [
      ['/v1/chat/completions', 'POST'],
      ['/api/ocr', 'POST'],
      ['/api/gui/execute', 'POST'],
      ['/api/video', 'POST'],
    ])
      for (const cls of ['2xx', '4xx', '5xx'])
        expect(first).toContain(
          `qwen3vl_http_requests_total{endpoint="${endpoint}",method="${method}",status_class="${cls}"} 0`,
        );

    expect((await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage())).status).toBe(200);
    for (const path of ['/healthz', '/readyz', '/api/monitor/snapshot', '/api/monitor/alerts/rules'])
      expect((await fetch(app.baseUrl + path)).status, path).toBe(200);
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const timed = (endpoint: string) =>
      text.includes(`qwen3vl_http_request_duration_seconds_count{endpoint="${endpoint}",method="GET"}`) ||
      text.includes(`qwen3vl_http_request_duration_seconds_count{endpoint="${endpoint}",method="POST"}`);
    const sized = (endpoint: string) => text.includes(`qwen3vl_http_response_size_bytes_count{endpoint="${endpoint}"`);
    // A model endpoint, and the routes METRICS_HISTOGRAM_ROUTES names (one exactly, some by prefix).
    for (const endpoint of ['/v1/chat/completions', '/healthz', '/api/monitor/alerts/rules']) {
      expect(timed(endpoint), endpoint).toBe(true);
      expect(sized(endpoint), endpoint).toBe(true);
    }
    // The others: counted, not timed.
    for (const endpoint of ['/readyz', '/api/monitor/snapshot']) {
      expect(timed(endpoint), endpoint).toBe(false);
      expect(sized(endpoint), endpoint).toBe(false);
      expect(text).toContain(`qwen3vl_http_requests_total{endpoint="${endpoint}",method="GET",status_class="2xx"} 1`);
    }
    expect(runTool(PROMTOOL, ['check', 'metrics'], text).output).toBe('');

    // The Monitor times every route as before: its own series and endpoint list keep them.
    clock.advance(1_000);
    app.monitor!.check(clock());
    for (const endpoint of ['/readyz', '/api/monitor/snapshot', '/healthz', '/v1/chat/completions'])
      expect(
        app.monitor!.store.latest('latency_ms_p50', { endpoint, method: endpoint.startsWith('/v1') ? 'POST' : 'GET' }),
        endpoint,
      ).toBeDefined();
    const listed = (await (await fetch(`${app.baseUrl}/api/monitor/endpoints`)).json()) as {
      endpoints: Array<{ endpoint: string }>;
    };
    expect(listed.endpoints.map((e) => e.endpoint)).toEqual(
      expect.arrayContaining(['/readyz', '/api/monitor/snapshot']),
    );
  });

  it('has the label sets known in advance from the first scrape, at 0, so rate() counts the first event', async () => {
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false });
    cleanups.push(() => app.close());
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const errors = text.split('\n').filter((l) => l.startsWith('qwen3vl_model_errors_total{'));
    // Each module × the codes a model request ends with; nothing else, nothing but 0.
    expect(errors).toHaveLength(MODULES.length * MODEL_ERROR_CODES.length);
    for (const module of MODULES)
      for (const code of ['UPSTREAM_OOM', 'UPSTREAM_TIMEOUT', 'CLIENT_CLOSED', 'VALIDATION_FAILED', 'INTERNAL'])
        expect(errors).toContain(`qwen3vl_model_errors_total{module="${module}",code="${code}"} 0`);
    for (const line of [
      'qwen3vl_gui_steps_total{outcome="valid"} 0',
      'qwen3vl_gui_steps_total{outcome="invalid"} 0',
      'qwen3vl_gui_step_execution_failures_total 0',
      'qwen3vl_images_preprocessed_total{module="ocr",outcome="failed"} 0',
      'qwen3vl_images_degraded_total{module="gui"} 0',
      'qwen3vl_video_frames_total 0',
      'qwen3vl_chat_prompt_tokens_total 0',
      'qwen3vl_ocr_confidence_ratio_count 0',
      'qwen3vl_http_requests_total{endpoint="/api/ocr",method="POST",status_class="5xx"} 0',
    ])
      expect(text).toContain(line);
    // The Monitor shows what happened, not the zeros: no error series before an error.
    app.monitor!.check(clock());
    expect(app.monitor!.store.find('model_error_count')).toHaveLength(0);
  });

  it('answers gzip to a scraper that asks for it (Prometheus always does), plain text to one that does not', async () => {
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const asking = await rawGet(`${app.baseUrl}/metrics`, { 'accept-encoding': 'gzip' });
    expect(asking.headers['content-encoding']).toBe('gzip');
    expect(asking.headers.vary).toBe('Accept-Encoding');
    expect(asking.headers['content-type']).toContain('text/plain; version=0.0.4');
    const text = gunzipSync(asking.body).toString('utf8');
    expect(text).toMatch(/^# TYPE qwen3vl_http_requests_total counter$/m);
    expect(asking.body.length).toBeLessThan(Buffer.byteLength(text) / 5);
    // Prometheus' own header, with weights.
    expect(
      (await rawGet(`${app.baseUrl}/metrics`, { 'accept-encoding': 'gzip, deflate;q=0.5, identity;q=0.1' })).headers[
        'content-encoding'
      ],
    ).toBe('gzip');
    for (const notAsking of [{}, { 'accept-encoding': 'identity' }, { 'accept-encoding': 'gzip;q=0, br' }]) {
      const plain = await rawGet(`${app.baseUrl}/metrics`, notAsking);
      expect(plain.headers['content-encoding'], JSON.stringify(notAsking)).toBeUndefined();
      expect(plain.body.toString('utf8')).toMatch(/^# TYPE qwen3vl_http_requests_total counter$/m);
    }
  });

  it("keeps Node's default metrics under their stock names", async () => {
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toMatch(new RegExp(`^${name} `, 'm'));
    }
    expect(text).not.toMatch(/^qwen3vl_(process|nodejs)_/m);
  });
});
