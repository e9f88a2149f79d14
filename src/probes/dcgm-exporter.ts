// GPUs read from NVIDIA's DCGM exporter (GPU_METRICS_URL) instead of NVML, for a WebUI that
// runs apart from its GPUs: a Kubernetes pod without GPUs, a CPU front-end, the model
// server on another host. Each check reads every GPU host's Prometheus page at once, each
// within a timeout and a byte budget, and turns each GPU into the reading NVML gives,
// labelled with its host (`gpu="<host>/<index>"`): the cards, series, rules, alerts and
// /metrics are those of NVML's GPUs. A page that fails is a reason on the cards and its
// GPUs read `gpu_available` 0; nothing here throws.
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { GpuMetricsTarget } from '../config.js';
import { BodyTooLarge, readLimited } from '../read-limited.js';
import { gpuLabel } from './gpu-label.js';
import { because, DCGM_PAGE_FAILURES, type ReasonCode, type ReasonPart, wordReason } from '../reasons.js';
import { notReadYet, type GpuHost, type GpuPollResult, type GpuSource } from './gpu-poller.js';
import type { GpuReading } from './nvml-device.js';
import { parsePrometheusText } from './prometheus-text.js';

/** A DCGM exporter's page is 3–5 KiB per GPU (more with Kubernetes pods): 8 GPUs are ~40 KiB. */
export const MAX_DCGM_PAGE_BYTES = 4 * 1024 * 1024;
/** GPUs read over all hosts at most: each GPU is about a dozen series in the Monitor's store. */
export const MAX_DCGM_GPUS = 64;
/** Pods listed per GPU at most (time-slicing can share one GPU among many). */
const MAX_PODS_PER_GPU = 32;

type Pod = NonNullable<GpuReading['pods']>[number];

/** The reading's numeric fields: what a DCGM field can fill. */
type NumericField = {
  [K in keyof GpuReading]-?: NonNullable<GpuReading[K]> extends number ? K : never;
}[keyof GpuReading];

/**
 * DCGM fields and the reading's field each fills, in DCGM's own units (MiB, %, °C, W, MHz);
 * the first field present wins. Memory is worked out apart (total = used + free + reserved).
 */
const FIELDS: ReadonlyArray<[NumericField, readonly string[]]> = [
  ['utilizationPercent', ['DCGM_FI_DEV_GPU_UTIL']],
  ['memoryBandwidthUtilizationPercent', ['DCGM_FI_DEV_MEM_COPY_UTIL']],
  ['temperatureCelsius', ['DCGM_FI_DEV_GPU_TEMP']],
  ['powerWatts', ['DCGM_FI_DEV_POWER_USAGE']],
  ['powerLimitWatts', ['DCGM_FI_DEV_ENFORCED_POWER_LIMIT', 'DCGM_FI_DEV_POWER_MGMT_LIMIT']],
  ['smClockMHz', ['DCGM_FI_DEV_SM_CLOCK']],
  ['memoryClockMHz', ['DCGM_FI_DEV_MEM_CLOCK']],
  ['fanPercent', ['DCGM_FI_DEV_FAN_SPEED']],
  // Double-bit errors are the uncorrectable ones; volatile: since the driver loaded, as NVML's.
  ['eccUncorrectedVolatile', ['DCGM_FI_DEV_ECC_DBE_VOL_TOTAL']],
  ['lastXid', ['DCGM_FI_DEV_XID_ERRORS']],
];

interface Gathered {
  labels: Record<string, string>;
  values: Map<string, number>;
  pods: Map<string, Pod>;
}

export interface DcgmPage {
  readings: GpuReading[];
  /** GPUs on the page past `maxGpus`, not read. */
  dropped: number;
  driverVersion?: string;
}

/**
 * Pure: a DCGM exporter's page as one reading per whole GPU (series of a MIG instance,
 * labelled GPU_I_ID, are left out). A GPU shared by several pods appears once per pod on
 * the page, with the same values: one reading, the pods listed.
 */
export function readDcgmPage(text: string, host: string, maxGpus = MAX_DCGM_GPUS): DcgmPage {
  const gpus = new Map<number, Gathered>();
  const over = new Set<number>();
  for (const s of parsePrometheusText(text)) {
    if (!s.name.startsWith('DCGM_FI_') || s.labels.GPU_I_ID) continue;
    const raw = s.labels.gpu;
    if (raw === undefined || !/^\d{1,6}$/.test(raw)) continue;
    const index = Number(raw);
    let g = gpus.get(index);
    if (!g) {
      if (gpus.size >= maxGpus) {
        if (over.size < 100_000) over.add(index);
        continue;
      }
      g = { labels: s.labels, values: new Map(), pods: new Map() };
      gpus.set(index, g);
    }
    if (Number.isFinite(s.value) && !g.values.has(s.name)) g.values.set(s.name, s.value);
    const { namespace, pod, container } = s.labels;
    if (pod && g.pods.size < MAX_PODS_PER_GPU) {
      const p: Pod = { namespace: namespace ?? '', pod, container: container ?? '' };
      g.pods.set(`${p.namespace}/${p.pod}/${p.container}`, p);
    }
  }

  const readings: GpuReading[] = [];
  let driverVersion: string | undefined;
  for (const [index, g] of [...gpus].sort(([a], [b]) => a - b)) {
    const r: GpuReading = { index, host, errors: {} };
    const { modelName, UUID, pci_bus_id, Hostname, DCGM_FI_DRIVER_VERSION } = g.labels;
    if (modelName) r.name = modelName;
    if (UUID) r.uuid = UUID;
    if (pci_bus_id) r.pciBusId = pci_bus_id;
    if (Hostname) r.exporterHostname = Hostname;
    driverVersion ??= DCGM_FI_DRIVER_VERSION || undefined;
    const v = (name: string) => g.values.get(name);

    // DCGM counts as nvidia-smi and NVML's v2 call do: used excludes reserved, total is all three.
    const used = v('DCGM_FI_DEV_FB_USED');
    const free = v('DCGM_FI_DEV_FB_FREE');
    const reserved = v('DCGM_FI_DEV_FB_RESERVED');
    const total =
      v('DCGM_FI_DEV_FB_TOTAL') ??
      (used !== undefined && free !== undefined ? used + free + (reserved ?? 0) : undefined);
    if (used !== undefined) r.memoryUsedMiB = used;
    if (total !== undefined) r.memoryTotalMiB = total;
    if (reserved !== undefined) r.memoryReservedMiB = reserved;
    if (used !== undefined && total !== undefined && total > 0) r.memoryUtilizationPercent = (used / total) * 100;

    for (const [field, names] of FIELDS) {
      const value = names.map(v).find((x) => x !== undefined);
      if (value !== undefined) r[field] = value;
    }
    // Profiling counters (dcp-metrics-included.csv): bytes per second, where NVML gives KiB/s.
    const tx = v('DCGM_FI_PROF_PCIE_TX_BYTES');
    const rx = v('DCGM_FI_PROF_PCIE_RX_BYTES');
    if (tx !== undefined) r.pcieTxKiBps = tx / 1024;
    if (rx !== undefined) r.pcieRxKiBps = rx / 1024;
    if (g.pods.size) r.pods = [...g.pods.values()];
    readings.push(r);
  }
  const page: DcgmPage = { readings, dropped: over.size };
  if (driverVersion) page.driverVersion = driverVersion;
  return page;
}

export interface DcgmGpuSourceOptions {
  targets: readonly GpuMetricsTarget[];
  /** Time allowed for one page, body included. */
  timeoutMs?: number;
  maxBytes?: number;
  maxGpus?: number;
}

/** Why a page gave nothing: a host failure's code and its own parameters (src/reasons.ts). */
type PageFailure =
  | { code: 'DCGM_NO_ANSWER'; params: { ms: number } }
  | { code: 'DCGM_ANSWERED'; params: { status: number } }
  | { code: 'DCGM_NO_GPU'; params: Record<string, never> }
  | { code: 'DCGM_FAILED'; params: { detail: string } };
type Page = { text: string; ms: number } | { error: PageFailure; ms: number };

/** Why a page could not be read, in words. */
function failure(err: unknown, timeoutMs: number): PageFailure {
  if (
    err instanceof Error &&
    !(err instanceof BodyTooLarge) &&
    (err.name === 'TimeoutError' || err.name === 'AbortError')
  )
    return { code: 'DCGM_NO_ANSWER', params: { ms: timeoutMs } };
  return { code: 'DCGM_FAILED', params: { detail: err instanceof Error ? err.message : String(err) } };
}

const UNREADABLE: PageFailure = { code: 'DCGM_FAILED', params: { detail: 'unreadable' } };
const pageFailureWords: Partial<Record<ReasonCode, string>> = DCGM_PAGE_FAILURES;

export class DcgmGpuSource implements GpuSource {
  readonly source = 'dcgm';
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxGpus: number;
  /** Each host's GPUs (label → UUID) at its last page that gave any: who is missing when it fails. */
  private readonly known = new Map<string, Map<string, string | undefined>>();
  private last: GpuPollResult = notReadYet();

  constructor(private readonly opts: DcgmGpuSourceOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.maxBytes = opts.maxBytes ?? MAX_DCGM_PAGE_BYTES;
    this.maxGpus = opts.maxGpus ?? MAX_DCGM_GPUS;
  }

  get result(): GpuPollResult {
    return this.last;
  }

  async poll(_now: number): Promise<GpuPollResult> {
    try {
      this.last = await this.read();
    } catch (err) {
      // Nothing a page holds may reach the process.
      this.last = {
        available: false,
        ...because({
          code: 'GPU_SOURCE_UNAVAILABLE',
          details: [{ code: 'TEXT', params: { text: (err as Error).message } }],
        }),
        readings: [],
        lost: [],
        processes: [],
        readMs: [],
      };
    }
    return this.last;
  }

  private async read(): Promise<GpuPollResult> {
    const pages = await Promise.all(this.opts.targets.map(async (t) => ({ t, p: await this.readPage(t.url) })));
    const readings: GpuReading[] = [];
    const missing: string[] = [];
    const hosts: GpuHost[] = [];
    const failures: ReasonPart[] = [];
    const notes: ReasonPart[] = [];
    let room = this.maxGpus;
    pages.forEach(({ t, p }) => {
      const host: GpuHost = { host: t.host, url: t.url, available: false, gpus: 0, readMs: p.ms };
      hosts.push(host);
      const before = this.known.get(t.host);
      const page = 'text' in p ? readDcgmPage(p.text, t.host, room) : undefined;
      const error: PageFailure | undefined =
        'error' in p
          ? p.error
          : page && page.readings.length === 0 && page.dropped === 0
            ? { code: 'DCGM_NO_GPU', params: {} }
            : undefined;
      if (error !== undefined || !page) {
        const f = error ?? UNREADABLE;
        // The host's row says what went wrong; the cards say where too.
        host.reason = wordReason([f], (code) => pageFailureWords[code]);
        failures.push({ code: f.code, params: { host: t.host, url: t.url, ...f.params } });
        missing.push(...(before?.keys() ?? []));
        return;
      }
      host.available = true;
      host.gpus = page.readings.length;
      if (page.driverVersion) host.driverVersion = page.driverVersion;
      room -= page.readings.length;
      if (page.dropped > 0)
        notes.push({ code: 'DCGM_GPUS_LEFT_OUT', params: { count: page.dropped, host: t.host, max: this.maxGpus } });
      const now = new Map(page.readings.map((g) => [gpuLabel(g), g.uuid]));
      for (const label of before?.keys() ?? []) if (!now.has(label)) missing.push(label);
      // Another board under the same index: a Service balancing several nodes' exporters
      // would mix their GPUs into one series.
      const moved = [...now].filter(([label, uuid]) => uuid && before?.get(label) && before.get(label) !== uuid);
      if (moved.length)
        notes.push({
          code: 'DCGM_UUID_MOVED',
          params: { host: t.host, gpus: moved.map(([l]) => l.slice(t.host.length + 1)).join(', '), url: t.url },
        });
      this.known.set(t.host, now);
      readings.push(...page.readings);
    });

    const result: GpuPollResult = {
      available: readings.length > 0,
      readings,
      lost: [],
      processes: [],
      readMs: [],
      missing,
      hosts,
    };
    const drivers = new Set(hosts.map((h) => h.driverVersion).filter((d) => d !== undefined));
    const [driver] = drivers;
    if (drivers.size === 1 && driver !== undefined) result.driverVersion = driver;
    const reason: ReasonPart[] = [
      ...(failures.length ? [{ code: 'GPU_SOURCE_UNAVAILABLE' as const, details: failures }] : []),
      ...notes,
    ];
    if (reason.length) Object.assign(result, because(...reason));
    return result;
  }

  /** One page, within the timeout and the byte budget; a failure is its reason, never a throw. */
  private async readPage(url: string): Promise<Page> {
    const t0 = performance.now();
    const ms = () => Math.round((performance.now() - t0) * 10) / 10;
    try {
      const res = await request(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        // Read off (at most 64 KiB, then dropped) so the connection can serve the next check.
        await res.body.dump({ limit: 64 * 1024 });
        return { error: { code: 'DCGM_ANSWERED', params: { status: res.statusCode } }, ms: ms() };
      }
      const text = await readLimited(res.body, this.maxBytes);
      return { text, ms: ms() };
    } catch (err) {
      return { error: failure(err, this.timeoutMs), ms: ms() };
    }
  }

  /** DCGM's pages are read at the check only: a failed request's context uses the last check. */
  freeMemoryNow(): Promise<null> {
    return Promise.resolve(null);
  }

  close(): void {}
}
