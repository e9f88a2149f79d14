// Why a figure is missing (no GPU, the driver not loaded, an exporter that did not answer,
// no traffic yet), as codes with parameters: the server words them in English (the API's
// `reason`, the log), the browser in the page's language from the codes (i18n
// `reason.<CODE>`), never by matching an English sentence. The browser loads this very
// module (compiled, at /js/shared/reasons.js) for the English words: one table for both.
// It imports nothing, so it runs in both.

/**
 * What went wrong with one DCGM exporter's page, in words that do not name it: that host's
 * own row says these; the cards say them after "DCGM exporter at <host> (<url>): ".
 */
export const DCGM_PAGE_FAILURES = {
  DCGM_NO_ANSWER: 'no answer within {ms} ms',
  DCGM_ANSWERED: 'answered {status}',
  DCGM_NO_GPU: 'no GPU on the page (no DCGM_FI_DEV_ metric with a gpu label): is it a DCGM exporter?',
  DCGM_FAILED: '{detail}',
} as const;
const AT_HOST = 'DCGM exporter at {host} ({url}): ';

export const REASON_TEMPLATES = {
  TEXT: '{text}',
  NO_MODEL_REQUESTS: 'no requests to the model endpoints in the window',
  NO_CHECK_YET: 'no check has run yet',
  NO_GPU_READING: 'no recent GPU reading',
  NO_NVIDIA_GPU: 'no NVIDIA GPU',
  GPU_PROBE_NOT_RUNNING: 'GPU probe not running',
  GPU_PROBE_NOT_RUN_YET: 'GPU probe has not run yet',
  GPU_PROBE_FAILED: 'GPU probe failed: {detail}',
  WAITING_TO_RETRY: 'waiting to retry',
  NVML_NOT_ON_PLATFORM: 'no NVIDIA GPU: NVML is not available on {platform}',
  NVML_NOT_FOUND: 'no NVIDIA GPU: {library} not found',
  NVML_NOT_LOADABLE: 'no NVIDIA GPU: NVIDIA driver library could not be loaded ({detail})',
  NVML_LOAD_FAILED: 'cannot load NVML: {detail}',
  DRIVER_NOT_LOADED:
    'NVIDIA driver not loaded ({detail}): is the kernel module loaded, or is this container started without GPUs?',
  NO_GPU_PERMISSION:
    'no permission to access the GPU ({detail}): run as a user in the video group or pass the device into the container',
  DRIVER_LIBRARY_NOT_FOUND: 'NVIDIA driver library not found ({detail})',
  NVML_INIT_FAILED: 'NVML failed to initialise: {detail} (NVML {code})',
  NVML_COUNT_FAILED: 'cannot count GPUs: {detail} (NVML {code})',
  NVML_NO_GPU: 'NVML found no GPU',
  NO_GPU_HANDLE: 'no GPU handle could be opened',
  GPU_LOST: 'GPU {gpus} lost (GPU_IS_LOST): NVML will be re-initialised',
  GPU_READ_FAILED: 'GPU {gpu}: {detail}',
  GPU_SOURCE_UNAVAILABLE: 'GPU source unavailable: {details}',
  DCGM_NO_ANSWER: `${AT_HOST}${DCGM_PAGE_FAILURES.DCGM_NO_ANSWER}`,
  DCGM_ANSWERED: `${AT_HOST}${DCGM_PAGE_FAILURES.DCGM_ANSWERED}`,
  DCGM_NO_GPU: `${AT_HOST}${DCGM_PAGE_FAILURES.DCGM_NO_GPU}`,
  DCGM_FAILED: `${AT_HOST}${DCGM_PAGE_FAILURES.DCGM_FAILED}`,
  DCGM_GPUS_LEFT_OUT: '{count} GPU(s) of {host} not read: at most {max} GPUs are read in all',
  DCGM_UUID_MOVED:
    "{host}: GPU {gpus} has another UUID than at the previous check: if {url} is a Service in front of several nodes' exporters, list each node's exporter instead",
  ENGINE_NOT_READ_YET: 'not read yet',
  ENGINE_NOT_CONFIGURED: 'no model server configured',
  ENGINE_NO_METRICS: 'the model server has no Prometheus /metrics',
  ENGINE_ANSWERED: '{url} answered {status}',
  ENGINE_NO_SAMPLES: '{url} has no metrics',
  // Why a field of a request was refused (validation.ts), where the schema says nothing of
  // its own: the form shows these at the field, in the page's language.
  FIELD_REQUIRED: 'required',
  FIELD_EMPTY: 'expected a value, got an empty string',
  FIELD_EXPECTED: 'expected {expected}, got {got}',
  FIELD_WHOLE_NUMBER: 'expected a whole number',
  FIELD_AT_LEAST: 'expected at least {min}',
  FIELD_AT_MOST: 'expected at most {max}',
  FIELD_AT_LEAST_ITEMS: 'expected at least {min} item(s)',
  FIELD_AT_MOST_ITEMS: 'expected at most {max} item(s)',
  FIELD_AT_MOST_CHARACTERS: 'expected at most {max} characters',
  FIELD_ONE_OF: 'expected one of {options}',
  // A delivery's outcome, as the history shows it.
  MAIL_ACCEPTED: 'accepted by {host}: {count} recipient(s)',
  ALERTMANAGER_ACCEPTED: '{alerts} alert(s) accepted by {accepted} of {targets} Alertmanager(s)',
} as const;

export type ReasonCode = keyof typeof REASON_TEMPLATES;

/** One reason: a code, its parameters, and (GPU_SOURCE_UNAVAILABLE) the reasons it is made of. */
export interface ReasonPart {
  code: ReasonCode;
  params?: Record<string, string | number>;
  /** Worded in place of `{details}`, joined by "; ". One level: a detail has no details. */
  details?: Array<Omit<ReasonPart, 'details'>>;
}

/**
 * The reasons in words, joined by "; ": English from the table above, or the page's
 * language when `template` gives it (a code it lacks falls back to English).
 */
export function wordReason(
  parts: readonly ReasonPart[],
  template: (code: ReasonCode) => string | undefined = () => undefined,
): string {
  const word = (p: ReasonPart): string =>
    (template(p.code) ?? REASON_TEMPLATES[p.code]).replace(/\{(\w+)\}/g, (_, name: string) =>
      name === 'details' ? (p.details ?? []).map(word).join('; ') : String(p.params?.[name] ?? ''),
    );
  return parts.map(word).join('; ');
}

/** `reason` (English) and `reasonParts` (the codes) of an answer, from one list. */
export function because(...parts: ReasonPart[]): { reason: string; reasonParts: ReasonPart[] } {
  return { reason: wordReason(parts), reasonParts: parts };
}
