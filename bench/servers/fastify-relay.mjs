// The same minimal relay on Fastify 5 with its defaults (JSON body parsed, no schema, no
// hooks): what the framework alone adds to one extra hop, between the minimal relay and ours.
import Fastify from 'fastify';
import { Agent, request } from 'undici';
const upstream = process.env.UPSTREAM_URL;
const agent = new Agent({ keepAliveTimeout: 30_000 });
// Bodies up to 50 MiB, as ours takes by default (BODY_LIMIT_BYTES).
const app = Fastify({ logger: false, bodyLimit: 50 * 1024 * 1024 });
app.post('/v1/chat/completions', async (req, reply) => {
  const up = await request(`${upstream}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req.body),
    dispatcher: agent,
  });
  reply.code(up.statusCode).header('content-type', String(up.headers['content-type'] ?? 'application/json'));
  return reply.send(up.body);
});
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.on('SIGINT', () => process.exit(0));
process.send?.('ready');
