// A DCGM exporter for tests: the page NVIDIA's dcgm-exporter serves at :9400/metrics, in its
// exact format (the counters of its etc/dcp-metrics-included.csv, the GPU Operator's
// default, with their HELP text and type; the labels gpu, UUID, pci_bus_id, device,
// modelName, Hostname, DCGM_FI_DRIVER_VERSION, then container, namespace and pod for a GPU
// a Kubernetes pod holds; integers as integers, doubles with six decimals), served by a
// real HTTP server whose GPUs a test changes between checks.
import { createServer, type Server } from 'node:http';

export interface FakeDcgmGpu {
  index: number;
  uuid: string;
  pciBusId: string;
  modelName: string;
  /** MiB */
  fbUsed: number;
  fbFree: number;
  fbReserved: number;
  util: number;
  memCopyUtil: number;
  temp: number;
  memoryTemp: number;
  /** W */
  power: number;
  smClock: number;
  memClock: number;
  xid: number;
  /** Kubernetes pods holding the GPU (the exporter writes one line per pod). */
  pods?: Array<{ namespace: string; pod: string; container: string }>;
  /** MIG instances (GPU_I_ID): their own lines for a few profiling fields. */
  mig?: Array<{ id: number; profile: string; grEngineActive: number }>;
}

export const H100_TOTAL_MIB = 81_559;

/** An idle H100 80GB HBM3 as DCGM reports it: 479 MiB reserved by the driver. */
export function h100(index: number, host: number, over: Partial<FakeDcgmGpu> = {}): FakeDcgmGpu {
  const fbReserved = 479;
  const fbUsed = over.fbUsed ?? 0;
  return {
    index,
    uuid: `GPU-${host}a7c2e4f-8d1b-4c3e-9f2a-${String(index).padStart(12, '0')}`,
    pciBusId: `00000000:${(0x17 + index * 0x1a).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
    modelName: 'NVIDIA H100 80GB HBM3',
    fbUsed,
    fbFree: H100_TOTAL_MIB - fbReserved - fbUsed,
    fbReserved,
    util: 0,
    memCopyUtil: 0,
    temp: 31,
    memoryTemp: 38,
    power: 71.394,
    smClock: 345,
    memClock: 2619,
    xid: 0,
    ...over,
  };
}

type Kind = 'gauge' | 'counter' | 'label';
interface Counter {
  field: string;
  kind: Kind;
  help: string;
  value?: (g: FakeDcgmGpu) => number;
  /** Written with six decimals (a DCGM double), else as an integer. */
  double?: boolean;
}

/** etc/dcp-metrics-included.csv, uncommented lines, in order. */
const COUNTERS: Counter[] = [
  { field: 'DCGM_FI_DEV_SM_CLOCK', kind: 'gauge', help: 'SM clock frequency (in MHz).', value: (g) => g.smClock },
  {
    field: 'DCGM_FI_DEV_MEM_CLOCK',
    kind: 'gauge',
    help: 'Memory clock frequency (in MHz).',
    value: (g) => g.memClock,
  },
  {
    field: 'DCGM_FI_DEV_MEMORY_TEMP',
    kind: 'gauge',
    help: 'Memory temperature (in C).',
    value: (g) => g.memoryTemp,
  },
  { field: 'DCGM_FI_DEV_GPU_TEMP', kind: 'gauge', help: 'GPU temperature (in C).', value: (g) => g.temp },
  {
    field: 'DCGM_FI_DEV_POWER_USAGE',
    kind: 'gauge',
    help: 'Power draw (in W).',
    value: (g) => g.power,
    double: true,
  },
  {
    field: 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
    kind: 'counter',
    help: 'Total energy consumption since boot (in mJ).',
    value: (g) => 319_159_391 + g.index * 1_000,
  },
  {
    field: 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER',
    kind: 'counter',
    help: 'Total number of PCIe retries.',
    value: () => 0,
  },
  { field: 'DCGM_FI_DEV_GPU_UTIL', kind: 'gauge', help: 'GPU utilization (in %).', value: (g) => g.util },
  {
    field: 'DCGM_FI_DEV_MEM_COPY_UTIL',
    kind: 'gauge',
    help: 'Memory utilization (in %).',
    value: (g) => g.memCopyUtil,
  },
  { field: 'DCGM_FI_DEV_ENC_UTIL', kind: 'gauge', help: 'Encoder utilization (in %).', value: () => 0 },
  { field: 'DCGM_FI_DEV_DEC_UTIL', kind: 'gauge', help: 'Decoder utilization (in %).', value: () => 0 },
  {
    field: 'DCGM_FI_DEV_XID_ERRORS',
    kind: 'gauge',
    help: 'Value of the last XID error encountered.',
    value: (g) => g.xid,
  },
  { field: 'DCGM_FI_DEV_FB_FREE', kind: 'gauge', help: 'Framebuffer memory free (in MiB).', value: (g) => g.fbFree },
  { field: 'DCGM_FI_DEV_FB_USED', kind: 'gauge', help: 'Framebuffer memory used (in MiB).', value: (g) => g.fbUsed },
  {
    field: 'DCGM_FI_DEV_FB_RESERVED',
    kind: 'gauge',
    help: 'Framebuffer memory reserved (in MiB).',
    value: (g) => g.fbReserved,
  },
  {
    field: 'DCGM_FI_DEV_RETIRED_SBE',
    kind: 'counter',
    help: 'Total number of retired pages due to single-bit errors.',
    value: () => 0,
  },
  {
    field: 'DCGM_FI_DEV_RETIRED_DBE',
    kind: 'counter',
    help: 'Total number of retired pages due to double-bit errors.',
    value: () => 0,
  },
  {
    field: 'DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL',
    kind: 'counter',
    help: 'Total number of NVLink bandwidth counters for all lanes.',
    value: () => 0,
  },
  { field: 'DCGM_FI_DEV_VGPU_LICENSE_STATUS', kind: 'gauge', help: 'vGPU License status', value: () => 0 },
  {
    field: 'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS',
    kind: 'counter',
    help: 'Number of remapped rows for uncorrectable errors',
    value: () => 0,
  },
  {
    field: 'DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS',
    kind: 'counter',
    help: 'Number of remapped rows for correctable errors',
    value: () => 0,
  },
  {
    field: 'DCGM_FI_DEV_ROW_REMAP_FAILURE',
    kind: 'gauge',
    help: 'Whether remapping of rows has failed',
    value: () => 0,
  },
  { field: 'DCGM_FI_DRIVER_VERSION', kind: 'label', help: 'Driver Version' },
  {
    field: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    kind: 'gauge',
    help: 'Ratio of time the graphics engine is active.',
    value: (g) => g.util / 100,
    double: true,
  },
  {
    field: 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE',
    kind: 'gauge',
    help: 'Ratio of cycles the tensor (HMMA) pipe is active.',
    value: (g) => (g.util / 100) * 0.62,
    double: true,
  },
  {
    field: 'DCGM_FI_PROF_DRAM_ACTIVE',
    kind: 'gauge',
    help: 'Ratio of cycles the device memory interface is active sending or receiving data.',
    value: (g) => g.memCopyUtil / 100,
    double: true,
  },
  {
    field: 'DCGM_FI_PROF_PCIE_TX_BYTES',
    kind: 'gauge',
    help: 'The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads - in bytes per second.',
    value: (g) => 33_011_804 + g.index,
  },
  {
    field: 'DCGM_FI_PROF_PCIE_RX_BYTES',
    kind: 'gauge',
    help: 'The rate of data received over the PCIe bus - including both protocol headers and data payloads - in bytes per second.',
    value: (g) => 97_863_601 + g.index,
  },
];

/** Profiling fields a MIG instance gets its own line for. */
const MIG_FIELDS = new Set(['DCGM_FI_PROF_GR_ENGINE_ACTIVE']);

const fmt = (v: number, double?: boolean) => (double ? v.toFixed(6) : String(Math.round(v)));

export interface PageOptions {
  /** The exporter's Hostname label (the node's name with NODE_NAME set, else its pod's). */
  hostname: string;
  driverVersion?: string;
}

/** The page dcgm-exporter serves for these GPUs. */
export function dcgmPage(gpus: readonly FakeDcgmGpu[], opts: PageOptions): string {
  const driver = opts.driverVersion ?? '550.90.07';
  const lines: string[] = [];
  for (const c of COUNTERS) {
    if (c.kind === 'label' || !c.value) continue;
    lines.push(`# HELP ${c.field} ${c.help}`, `# TYPE ${c.field} ${c.kind}`);
    for (const g of gpus) {
      const base = `gpu="${g.index}",UUID="${g.uuid}",pci_bus_id="${g.pciBusId}",device="nvidia${g.index}",modelName="${g.modelName}"`;
      const tail = `Hostname="${opts.hostname}",DCGM_FI_DRIVER_VERSION="${driver}"`;
      const value = fmt(c.value(g), c.double);
      const pods = g.pods?.length ? g.pods : [undefined];
      for (const p of pods) {
        const k8s = p ? `,container="${p.container}",namespace="${p.namespace}",pod="${p.pod}"` : '';
        lines.push(`${c.field}{${base},${tail}${k8s}} ${value}`);
      }
      if (MIG_FIELDS.has(c.field))
        for (const m of g.mig ?? [])
          lines.push(
            `${c.field}{${base},GPU_I_PROFILE="${m.profile}",GPU_I_ID="${m.id}",${tail}} ${fmt(m.grEngineActive, true)}`,
          );
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface FakeDcgmExporter {
  url: string;
  gpus: FakeDcgmGpu[];
  hostname: string;
  /** Pages served. */
  served: number;
  /** Stops answering: the port is closed (connection refused), as when the host goes down. */
  stop(): Promise<void>;
}

/** A dcgm-exporter on 127.0.0.1, serving its GPUs' current page at /metrics. */
export async function startDcgmExporter(
  cleanups: Array<() => Promise<void>>,
  gpus: FakeDcgmGpu[],
  hostname: string,
): Promise<FakeDcgmExporter> {
  let server: Server | undefined;
  const exporter: FakeDcgmExporter = {
    url: '',
    gpus,
    hostname,
    served: 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        const s = server;
        server = undefined;
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
  server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end('404 page not found\n');
    exporter.served++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(dcgmPage(exporter.gpus, { hostname: exporter.hostname }));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server!.once('listening', r));
  const { port } = server.address() as { port: number };
  exporter.url = `http://127.0.0.1:${port}/metrics`;
  cleanups.push(() => exporter.stop());
  return exporter;
}
