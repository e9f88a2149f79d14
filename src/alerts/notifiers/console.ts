// Console: the alert is pushed on the Monitor WebSocket to every open Monitor tab,
// which shows it as a popup until acknowledged.
import type { Notification, Notifier, SendResult } from '../notifier.js';

export function consoleNotifier(broadcast: (n: Notification) => void): Notifier {
  return {
    kind: 'console',
    async send(n: Notification): Promise<SendResult> {
      broadcast(n);
      return { ok: true };
    },
  };
}
