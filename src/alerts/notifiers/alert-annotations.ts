// The annotations an alert carries to Alertmanager, by either road: its API (alertmanager.ts)
// and the Alertmanager-format webhook (webhook-formats.ts). One set, so that an alert read in
// Alertmanager says the same whichever way it came, and its value and threshold are written
// as its summary writes them ("1.90 s", "> 1.2345 s"), not as raw numbers in another unit.
import type { AlertPayload } from '../notifier.js';
import { contextLines, writtenValue } from './email-format.js';

export function alertAnnotations(a: AlertPayload): Record<string, string> {
  const c = a.context;
  const written = writtenValue(a);
  const annotations: Record<string, string> = {
    summary: a.summary,
    description: contextLines(a)
      .filter(([k]) => k !== 'Status')
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n'),
    metric: a.metric,
    value: written.v,
    threshold: `${c.op} ${written.th}`,
  };
  if (c.lastError) annotations.last_error = c.lastError;
  if (Object.keys(c.gpuTemperatureCelsius).length)
    annotations.gpu_temperature_celsius = Object.entries(c.gpuTemperatureCelsius)
      .map(([g, t]) => `${g}=${t}`)
      .join(' ');
  if (c.topClient) annotations.top_client = c.topClient;
  // What changed with it, most telling first: one line each.
  if (c.whyLines?.length) annotations.why = c.whyLines.join('\n');
  if (c.request)
    annotations.request = Object.entries(c.request)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  if (c.samples?.length) annotations.samples = c.samples.map((s) => s.url).join(' ');
  return annotations;
}
