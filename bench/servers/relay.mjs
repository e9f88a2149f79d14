// The limit of one extra hop: a minimal chat relay with nothing but node:http and an undici
// pool (no framework, no validation, no monitoring). Whatever our relay costs beyond this is
// ours to explain.
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
const upstream = process.env.UPSTREAM_URL;
// No connection cap: as many model requests at once as clients send.
const agent = new Agent({ keepAliveTimeout: 30_000 });
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const up = await request(`${upstream}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
        dispatcher: agent,
      });
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
      for await (const c of up.body) res.write(c);
      res.end();
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGINT', () => process.exit(0));
