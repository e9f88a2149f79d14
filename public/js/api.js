// Talking to the server: JSON requests that surface the API's error (code, field), and
// the Monitor stream with reconnection.
/** @typedef {import('./types.js').StreamMessage} StreamMessage */

/** A refused request: its status, and the error body every API answer shares (src/errors.ts). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {unknown} body
   */
  constructor(status, body) {
    const error = errorOf(body);
    super(error?.message === undefined || error.message === null ? `HTTP ${status}` : String(error.message));
    this.status = status;
    /** @type {string | undefined} */
    this.field = error?.field;
    /** @type {string | undefined} */
    this.code = error?.code;
    /** Why the field was refused, as codes (a generic check): worded in the page's language. @type {import('./types.js').ReasonPart[] | undefined} */
    this.reasonParts = error?.reasonParts;
  }
}

/**
 * The `error` of an answer's body (`{ error: { code, message, field? } }`, src/errors.ts), if
 * it has one: a proxy's answer may be any JSON. Its field and code are kept when they are text.
 * @param {unknown} body
 * @returns {{ message: unknown, field?: string, code?: string, reasonParts?: import('./types.js').ReasonPart[] } | undefined}
 */
function errorOf(body) {
  const e = prop(body, 'error');
  if (typeof e !== 'object' || e === null) return undefined;
  const field = prop(e, 'field');
  const code = prop(e, 'code');
  const reasonParts = prop(e, 'reasonParts');
  return {
    message: prop(e, 'message'),
    ...(typeof field === 'string' ? { field } : {}),
    ...(typeof code === 'string' ? { code } : {}),
    // The server's own codes (src/reasons.ts); a proxy's answer has none.
    ...(Array.isArray(reasonParts) ? { reasonParts } : {}),
  };
}

/**
 * What a caught failure says (an Error's message; nothing for what has none), as the page
 * shows it.
 * @param {unknown} err
 * @returns {string}
 */
export function messageOf(err) {
  const m = prop(err, 'message');
  return m === undefined || m === null ? '' : String(m);
}

/**
 * A property of JSON not checked yet (undefined where there is none, as `?.` reads it).
 * @param {unknown} value
 * @param {string | number} key
 * @returns {unknown}
 */
export function prop(value, key) {
  return typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
}

/**
 * A request to the API; resolves to its JSON answer (null when empty). The answer is the
 * server's, typed by the caller from the server's own types (./types.js): it is not checked
 * here, as the server already checked it against the route's schema.
 * @template [T=unknown]
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [opts]
 * @returns {Promise<T>}
 */
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

/**
 * A response's JSON answer, as api() reads it: the server's, typed by the caller.
 * @template [T=unknown]
 * @param {Response} res
 * @returns {Promise<T>}
 */
export function json(res) {
  return res.json();
}

/**
 * Opens the Monitor stream; calls onMessage({ type, data }) and onStatus(connected).
 * @param {(message: StreamMessage) => void} onMessage
 * @param {(connected: boolean) => void} onStatus
 * @returns {() => void} closes the stream for good
 */
export function connectStream(onMessage, onStatus) {
  /** @type {WebSocket | undefined} */
  let ws;
  let stopped = false;
  const open = () => {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/monitor/stream`);
    ws.onopen = () => onStatus(true);
    ws.onmessage = (e) => {
      /** @type {StreamMessage} the server's (src/stream-hub.ts), not checked here */
      const m = JSON.parse(e.data);
      onMessage(m);
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
