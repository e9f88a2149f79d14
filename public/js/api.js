// Talking to the server: JSON requests that surface the API's error (code, field), and
// the Monitor stream with reconnection.
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.field = body?.error?.field;
    this.code = body?.error?.code;
  }
}

export async function api(path, opts = {}) {
  const res = await fetch(path, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page: the status says what happened.
    if (res.ok) throw new ApiError(res.status, { error: { message: `HTTP ${res.status}: not JSON` } });
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** Opens the Monitor stream; calls onMessage(type, data) and onStatus(connected). */
export function connectStream(onMessage, onStatus) {
  let ws;
  let stopped = false;
  const open = () => {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/monitor/stream`);
    ws.onopen = () => onStatus(true);
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      onMessage(m.type, m.data);
    };
    ws.onclose = () => {
      onStatus(false);
      if (!stopped) setTimeout(open, 2000);
    };
  };
  open();
  return () => {
    stopped = true;
    ws?.close();
  };
}
