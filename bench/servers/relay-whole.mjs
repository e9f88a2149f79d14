// The minimal relay (servers/relay.mjs) with a whole answer read and sent in one write with
// its length (no chunked encoding, no async iterator): node:http's own floor for a
// non-streamed answer. Streamed answers are passed on one network read at a time.
import { createServer } from 'node:http';
import { Agent } from 'undici';
const upstream = new URL(process.env.UPSTREAM_URL);
const path = `${upstream.pathname.replace(/\/$/, '')}/chat/completions`;
const agent = new Agent({ keepAliveTimeout: 30_000 });
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const up = await agent.request({
        origin: upstream.origin,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      const type = String(up.headers['content-type'] ?? 'application/json');
      if (type.startsWith('text/event-stream')) {
        res.writeHead(up.statusCode, { 'content-type': type });
        for await (const c of up.body) res.write(c);
        res.end();
        return;
      }
      const answer = Buffer.from(await up.body.arrayBuffer());
      res.writeHead(up.statusCode, { 'content-type': type, 'content-length': answer.length });
      res.end(answer);
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGINT', () => process.exit(0));
