// The alert presets the incident drill wants firing, imported as any operator would:
// with the channels that are set up (on a fresh demo, the console only). The demo sets up
// no channel of its own: a made-up `webhook` would fail every notice and fill the log.
import type { AlertConfig } from '../alerts/alert-config.js';

/** The presets an operator rehearsing the drill wants firing. */
export const INCIDENT_PRESETS = ['p95-latency', 'ocr-degradation', 'ocr-preprocessing', 'error-rate'] as const;

/** Imports them; answers the channels they name that are not set up (left out), each once. */
export function importIncidentPresets(alerts: Pick<AlertConfig, 'importPreset'>): string[] {
  const notSetUp = new Set<string>();
  for (const id of INCIDENT_PRESETS) for (const c of alerts.importPreset(id)?.channelsNotSetUp ?? []) notSetUp.add(c);
  return [...notSetUp];
}
