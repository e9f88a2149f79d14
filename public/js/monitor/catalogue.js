// The server's catalogue (GET /api/monitor/catalogue), asked for once per page: the
// metrics and every list the UI builds a picker from (operators, severities, channel
// kinds, webhook formats, modules, stages, log levels). The UI keeps no copy of them.
import { api } from '../api.js';

/** @type {Promise<import('../types.js').Catalogue> | null} */
let loading = null;

/**
 * The catalogue; a failed load is asked again next time.
 * @returns {Promise<import('../types.js').Catalogue>}
 */
export function loadCatalogue() {
  if (!loading) {
    /** @type {Promise<import('../types.js').Catalogue>} */
    const asked = api('/api/monitor/catalogue');
    loading = asked.catch((err) => {
      loading = null;
      throw err;
    });
  }
  return loading;
}
