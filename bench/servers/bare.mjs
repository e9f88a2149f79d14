// Peer baseline: plain Fastify 5 with the same trivial route and no metrics.
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.send?.('ready');
