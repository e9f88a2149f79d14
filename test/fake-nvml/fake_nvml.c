/*
 * A fake libnvidia-ml.so for tests: it exports the NVML symbols the probe binds to, with
 * the real signatures and struct layouts, and its values and return codes are set by
 * the test through the fake_* functions below (the test loads this same library with
 * koffi, so both sides share its state).
 *
 * Build variants (the test compiles them with the machine's cc):
 *   -DFAKE_LEGACY      : no nvmlDeviceGetMemoryInfo_v2, no nvmlDeviceGetTemperatureV,
 *                        no confidential-computing symbols (an older driver)
 *   -DFAKE_STRIDE32    : nvmlDeviceGetComputeRunningProcesses_v3 writes 32-byte records
 *                        (newer drivers, with usedGpuCcProtectedMemory); default 24 bytes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEV 8
#define MAX_SAMPLES 512
#define MAX_PROCS 64

enum {
  OK = 0, UNINITIALIZED = 1, INVALID_ARGUMENT = 2, NOT_SUPPORTED = 3, NO_PERMISSION = 4,
  NOT_FOUND = 6, INSUFFICIENT_SIZE = 7, DRIVER_NOT_LOADED = 9, GPU_IS_LOST = 15, UNKNOWN = 999
};

/* Fields a test can mark NOT_SUPPORTED, as bits. */
enum {
  F_MEMORY = 1, F_UTIL = 2, F_TEMP = 4, F_POWER = 8, F_POWER_LIMIT = 16, F_CLOCKS = 32, F_FAN = 64,
  F_ECC = 128, F_PCIE = 256, F_SAMPLES = 512, F_PROCS = 1024
};

typedef struct {
  char name[96];
  char uuid[96];
  unsigned long long mem_total, mem_used, mem_reserved;
  unsigned int util_gpu, util_mem, temp, power_mw, power_limit_mw, sm_clock, mem_clock, fan;
  unsigned long long ecc_uncorrected;
  unsigned int pcie_tx_kbs, pcie_rx_kbs;
  unsigned long long sample_ts[MAX_SAMPLES];
  unsigned int sample_val[MAX_SAMPLES];
  int n_samples;
  unsigned int proc_pid[MAX_PROCS];
  unsigned long long proc_mem[MAX_PROCS];
  int n_procs;
  int unsupported;
  int lost;
} Device;

static Device devs[MAX_DEV];
static int n_devs = 1;
static int init_result = OK;
static int initialized = 0;
static long calls = 0;
static int inits = 0;

/* ---------- control API for tests ---------- */

void fake_reset(int count) {
  memset(devs, 0, sizeof devs);
  n_devs = count;
  init_result = OK;
  initialized = 0;
  calls = 0;
  inits = 0;
  for (int i = 0; i < MAX_DEV; i++) {
    snprintf(devs[i].name, sizeof devs[i].name, "NVIDIA H100 80GB HBM3 (fake %d)", i);
    snprintf(devs[i].uuid, sizeof devs[i].uuid, "GPU-fake-0000-0000-0000-00000000000%d", i);
    devs[i].mem_total = 81559ULL * 1024 * 1024;
    devs[i].mem_used = 845ULL * 1024 * 1024;
    devs[i].mem_reserved = 479ULL * 1024 * 1024;
    devs[i].temp = 33;
    devs[i].power_mw = 71000;
    devs[i].power_limit_mw = 700000;
    devs[i].sm_clock = 1980;
    devs[i].mem_clock = 2619;
  }
}
void fake_set_init_result(int code) { init_result = code; }
void fake_set_memory(int i, unsigned long long total, unsigned long long used, unsigned long long reserved) {
  devs[i].mem_total = total; devs[i].mem_used = used; devs[i].mem_reserved = reserved;
}
void fake_set_util(int i, unsigned int gpu, unsigned int mem) { devs[i].util_gpu = gpu; devs[i].util_mem = mem; }
void fake_set_temp(int i, unsigned int c) { devs[i].temp = c; }
void fake_set_power(int i, unsigned int mw, unsigned int limit_mw) { devs[i].power_mw = mw; devs[i].power_limit_mw = limit_mw; }
void fake_set_clocks(int i, unsigned int sm, unsigned int mem) { devs[i].sm_clock = sm; devs[i].mem_clock = mem; }
void fake_set_fan(int i, unsigned int pct) { devs[i].fan = pct; }
void fake_set_ecc(int i, unsigned long long n) { devs[i].ecc_uncorrected = n; }
void fake_set_pcie(int i, unsigned int tx, unsigned int rx) { devs[i].pcie_tx_kbs = tx; devs[i].pcie_rx_kbs = rx; }
void fake_set_unsupported(int i, int mask) { devs[i].unsupported = mask; }
void fake_set_lost(int i, int lost) { devs[i].lost = lost; }
void fake_add_sample(int i, unsigned long long ts_us, unsigned int value) {
  Device *d = &devs[i];
  if (d->n_samples == MAX_SAMPLES) { /* drop the oldest, like the driver's ring */
    memmove(d->sample_ts, d->sample_ts + 1, sizeof(d->sample_ts[0]) * (MAX_SAMPLES - 1));
    memmove(d->sample_val, d->sample_val + 1, sizeof(d->sample_val[0]) * (MAX_SAMPLES - 1));
    d->n_samples--;
  }
  d->sample_ts[d->n_samples] = ts_us;
  d->sample_val[d->n_samples] = value;
  d->n_samples++;
}
void fake_add_process(int i, unsigned int pid, unsigned long long mem) {
  Device *d = &devs[i];
  if (d->n_procs < MAX_PROCS) { d->proc_pid[d->n_procs] = pid; d->proc_mem[d->n_procs] = mem; d->n_procs++; }
}
long fake_calls(void) { return calls; }
int fake_inits(void) { return inits; }
int fake_initialized(void) { return initialized; }

/* ---------- NVML ---------- */

typedef void *nvmlDevice_t;

static int dev_of(nvmlDevice_t h, Device **out) {
  calls++;
  if (!initialized) return UNINITIALIZED;
  long i = (long)h - 1;
  if (i < 0 || i >= n_devs) return INVALID_ARGUMENT;
  if (devs[i].lost) return GPU_IS_LOST;
  *out = &devs[i];
  return OK;
}
#define DEV(h, field) Device *d; int r_ = dev_of(h, &d); if (r_) return r_; if (d->unsupported & (field)) return NOT_SUPPORTED;

int nvmlInit_v2(void) { calls++; inits++; if (init_result) return init_result; initialized = 1; return OK; }
int nvmlShutdown(void) { calls++; initialized = 0; return OK; }

const char *nvmlErrorString(int r) {
  switch (r) {
    case OK: return "Success";
    case UNINITIALIZED: return "Uninitialized";
    case INVALID_ARGUMENT: return "Invalid Argument";
    case NOT_SUPPORTED: return "Not Supported";
    case NO_PERMISSION: return "Insufficient Permissions";
    case NOT_FOUND: return "Not Found";
    case INSUFFICIENT_SIZE: return "Insufficient Size";
    case DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
  }
}

int nvmlSystemGetDriverVersion(char *buf, unsigned int len) { calls++; snprintf(buf, len, "%s", "550.54.15-fake"); return OK; }

int nvmlDeviceGetCount_v2(unsigned int *count) { calls++; if (!initialized) return UNINITIALIZED; *count = (unsigned int)n_devs; return OK; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *h) {
  calls++;
  if (!initialized) return UNINITIALIZED;
  if (i >= (unsigned int)n_devs) return INVALID_ARGUMENT;
  if (devs[i].lost) return GPU_IS_LOST;
  *h = (nvmlDevice_t)(long)(i + 1);
  return OK;
}
int nvmlDeviceGetName(nvmlDevice_t h, char *buf, unsigned int len) { DEV(h, 0); snprintf(buf, len, "%s", d->name); return OK; }
int nvmlDeviceGetUUID(nvmlDevice_t h, char *buf, unsigned int len) { DEV(h, 0); snprintf(buf, len, "%s", d->uuid); return OK; }

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
/* v1 counts reserved memory as used, as real drivers do. */
int nvmlDeviceGetMemoryInfo(nvmlDevice_t h, nvmlMemory_t *m) {
  DEV(h, F_MEMORY);
  m->total = d->mem_total; m->used = d->mem_used + d->mem_reserved; m->free = d->mem_total - m->used;
  return OK;
}
#ifndef FAKE_LEGACY
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
int nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t h, nvmlMemory_v2_t *m) {
  DEV(h, F_MEMORY);
  if (m->version != (unsigned int)(sizeof(nvmlMemory_v2_t) | (2 << 24))) return 25; /* ARGUMENT_VERSION_MISMATCH */
  m->total = d->mem_total; m->reserved = d->mem_reserved; m->used = d->mem_used;
  m->free = d->mem_total - d->mem_used - d->mem_reserved;
  return OK;
}
#endif

typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
int nvmlDeviceGetUtilizationRates(nvmlDevice_t h, nvmlUtilization_t *u) { DEV(h, F_UTIL); u->gpu = d->util_gpu; u->memory = d->util_mem; return OK; }

int nvmlDeviceGetTemperature(nvmlDevice_t h, int sensor, unsigned int *t) { DEV(h, F_TEMP); if (sensor != 0) return INVALID_ARGUMENT; *t = d->temp; return OK; }
#ifndef FAKE_LEGACY
typedef struct { unsigned int version; int sensorType; int temperature; } nvmlTemperature_t;
int nvmlDeviceGetTemperatureV(nvmlDevice_t h, nvmlTemperature_t *t) {
  DEV(h, F_TEMP);
  if (t->version != (unsigned int)(sizeof(nvmlTemperature_t) | (1 << 24))) return 25;
  t->temperature = (int)d->temp;
  return OK;
}
int nvmlDeviceGetConfComputeMemSizeInfo(nvmlDevice_t h, void *info) { (void)h; (void)info; return NOT_SUPPORTED; }
#endif

int nvmlDeviceGetPowerUsage(nvmlDevice_t h, unsigned int *mw) { DEV(h, F_POWER); *mw = d->power_mw; return OK; }
int nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t h, unsigned int *mw) { DEV(h, F_POWER_LIMIT); *mw = d->power_limit_mw; return OK; }
int nvmlDeviceGetClockInfo(nvmlDevice_t h, int type, unsigned int *mhz) {
  DEV(h, F_CLOCKS);
  if (type == 1) *mhz = d->sm_clock; else if (type == 2) *mhz = d->mem_clock; else return INVALID_ARGUMENT;
  return OK;
}
int nvmlDeviceGetFanSpeed(nvmlDevice_t h, unsigned int *pct) { DEV(h, F_FAN); *pct = d->fan; return OK; }
int nvmlDeviceGetTotalEccErrors(nvmlDevice_t h, int errorType, int counterType, unsigned long long *n) {
  DEV(h, F_ECC);
  if (errorType != 1 || counterType != 0) return INVALID_ARGUMENT;
  *n = d->ecc_uncorrected;
  return OK;
}
int nvmlDeviceGetPcieThroughput(nvmlDevice_t h, int counter, unsigned int *kbs) {
  DEV(h, F_PCIE);
  if (counter == 0) *kbs = d->pcie_tx_kbs; else if (counter == 1) *kbs = d->pcie_rx_kbs; else return INVALID_ARGUMENT;
  return OK;
}

typedef union { double d; int si; unsigned int ui; unsigned long ul; unsigned long long ull; long long sll; } nvmlValue_t;
typedef struct { unsigned long long timeStamp; nvmlValue_t sampleValue; } nvmlSample_t;
int nvmlDeviceGetSamples(nvmlDevice_t h, int type, unsigned long long lastSeen, int *valType, unsigned int *count, nvmlSample_t *out) {
  DEV(h, F_SAMPLES);
  if (type != 1) return NOT_SUPPORTED;
  if (out == NULL) { *count = MAX_SAMPLES; return OK; }
  unsigned int n = 0;
  for (int k = 0; k < d->n_samples && n < *count; k++) {
    if (d->sample_ts[k] <= lastSeen) continue;
    out[n].timeStamp = d->sample_ts[k];
    out[n].sampleValue.ull = 0;
    out[n].sampleValue.ui = d->sample_val[k];
    n++;
  }
  if (n == 0) return NOT_FOUND;
  *valType = 1; /* NVML_VALUE_TYPE_UNSIGNED_INT */
  *count = n;
  return OK;
}

#ifdef FAKE_STRIDE32
#define PROC_STRIDE 32
#else
#define PROC_STRIDE 24
#endif
int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t h, unsigned int *count, void *infos) {
  DEV(h, F_PROCS);
  if (*count < (unsigned int)d->n_procs || (infos == NULL && d->n_procs > 0)) { *count = (unsigned int)d->n_procs; return d->n_procs ? INSUFFICIENT_SIZE : OK; }
  unsigned char *p = (unsigned char *)infos;
  for (int k = 0; k < d->n_procs; k++) {
    unsigned char *rec = p + (size_t)k * PROC_STRIDE;
    memset(rec, 0, PROC_STRIDE);
    memcpy(rec, &d->proc_pid[k], 4);                   /* pid */
    memcpy(rec + 8, &d->proc_mem[k], 8);               /* usedGpuMemory */
    unsigned int none = 0xFFFFFFFFu;                    /* no MIG instance */
    memcpy(rec + 16, &none, 4);
    memcpy(rec + 20, &none, 4);
#ifdef FAKE_STRIDE32
    unsigned long long cc = 0;                          /* usedGpuCcProtectedMemory */
    memcpy(rec + 24, &cc, 8);
#endif
  }
  *count = (unsigned int)d->n_procs;
  return OK;
}
