// Acknowledging a firing alert from the firing list or a popup, or dismissing a
// per-request notice (by its requestId). The button is disabled while the request runs;
// if it fails, the button comes back and the reason appears beside it ("Could not
// acknowledge the alert: the server did not answer"), never an unhandled rejection. On
// success the server's broadcast updates every open tab.
import { api } from '../api.js';
import { h } from '../dom.js';
import { failureText } from './settings/feedback.js';

/**
 * action: the `action.*` key a failure names ('ack', or 'dismiss' for a per-request notice).
 * @param {HTMLButtonElement} button
 * @param {{ ruleId: string, labels: Record<string, string>, requestId?: string | number | null }} alert
 * @param {() => void} [onDone]
 * @param {string} [action]
 */
export async function acknowledge(button, alert, onDone = () => {}, action = 'ack') {
  button.disabled = true;
  button.parentElement?.querySelector('.action-error')?.remove();
  try {
    await api('/api/monitor/alerts/active/ack', {
      body: {
        ruleId: alert.ruleId,
        labels: alert.labels,
        ...(alert.requestId ? { requestId: alert.requestId } : {}),
      },
    });
    onDone();
  } catch (err) {
    button.disabled = false;
    button.after(h('span', { class: 'action-error', role: 'alert', text: failureText(action, err) }));
  }
}
