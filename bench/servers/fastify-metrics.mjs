// The peer: Fastify 5 + fastify-metrics with its defaults (route histogram + summary).
import Fastify from 'fastify';
import metrics from 'fastify-metrics';
const app = Fastify({ logger: false });
await app.register(metrics.default ?? metrics, { endpoint: '/metrics' });
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.send?.('ready');
