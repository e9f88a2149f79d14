// A real HTTP receiver for webhook and Alertmanager notifications: it records each POST
// (path, parsed body, headers, raw text) and answers as `answer` says for the nth request
// (status, optional delay). Closed by the test's cleanups.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface Received {
  path: string;
  body: any;
  headers: IncomingHttpHeaders;
  raw: string;
}

export type Answer = (n: number) => { status: number; delayMs?: number };

export async function startReceiver(cleanups: Array<() => Promise<void>>, answer: Answer = () => ({ status: 200 })) {
  const got: Received[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const a = answer(n++);
      got.push({ path: req.url ?? '', body: JSON.parse(raw), headers: req.headers, raw });
      setTimeout(
        () => res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.status < 300 ? 'ok' : 'boom'),
        a.delayMs ?? 0,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { base, url: `${base}/hook`, got, bodies: () => got.map((g) => g.body) };
}
