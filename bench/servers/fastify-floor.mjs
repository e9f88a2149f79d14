// What a relay on Fastify 5 need cost: the request's bytes passed on unparsed (no schema, no
// hooks), a whole answer read and sent in one write with its length, a streamed one passed
// on one network read at a time. Fastify's own floor, where servers/fastify-relay.mjs is the
// minimal relay written naively on Fastify (the JSON parsed and written again, the answer
// piped piece by piece).
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { Agent } from 'undici';
const upstream = new URL(process.env.UPSTREAM_URL);
const path = `${upstream.pathname.replace(/\/$/, '')}/chat/completions`;
const agent = new Agent({ keepAliveTimeout: 30_000 });
// Bodies up to 50 MiB, as ours takes by default (BODY_LIMIT_BYTES).
const app = Fastify({ logger: false, bodyLimit: 50 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/v1/chat/completions', async (req, reply) => {
  const up = await agent.request({
    origin: upstream.origin,
    path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: req.body,
  });
  const type = String(up.headers['content-type'] ?? 'application/json');
  reply.code(up.statusCode).header('content-type', type);
  if (type.startsWith('text/event-stream')) return reply.send(Readable.from(up.body));
  return reply.send(Buffer.from(await up.body.arrayBuffer()));
});
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.on('SIGINT', () => process.exit(0));
process.send?.('ready');
