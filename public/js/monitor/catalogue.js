// The server's catalogue (GET /api/monitor/catalogue), asked for once per page: the
// metrics and every list the UI builds a picker from (operators, severities, channel
// kinds, webhook formats, modules, stages, log levels). The UI keeps no copy of them.
import { api } from '../api.js';

let loading = null;

/** The catalogue; a failed load is asked again next time. */
export function loadCatalogue() {
  loading ??= api('/api/monitor/catalogue').catch((err) => {
    loading = null;
    throw err;
  });
  return loading;
}
