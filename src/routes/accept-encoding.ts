// Content negotiation for one coding (RFC 9110 §12.5.3): does the client's Accept-Encoding
// take gzip? Pure; /metrics uses it (Prometheus always sends `Accept-Encoding: gzip`).

/** Whether `Accept-Encoding` lets us answer with gzip: listed (or `*`) with a weight above 0. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const item of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [coding = '', ...params] = item.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (Number.isNaN(weight)) continue;
    if (coding === 'gzip' || coding === 'x-gzip') gzip = weight;
    else if (coding === '*') any = weight;
  }
  // An explicit gzip;q=0 refuses it even where `*` would allow it.
  return (gzip ?? any ?? 0) > 0;
}
