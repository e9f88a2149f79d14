// Getting the monitor cookie: the ready-to-open link printed at start-up
// (GET /monitor?token=…) and a login form (POST /api/monitor/login).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { COOKIE_NAME, cookieValue, mayAccessMonitor } from '../auth.js';
import { AppError } from '../errors.js';
import { parseOrThrow } from '../validation.js';

const loginBody = z.object({ token: z.string({ message: 'required: the monitor token' }).min(1) });

function setCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  const secure = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${COOKIE_NAME}=${cookieValue(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure}`);
}

export async function loginRoutes(app: FastifyInstance, opts: { token: string }): Promise<void> {
  const check = (presented: string) =>
    mayAccessMonitor({ remoteAddress: undefined, headers: { authorization: `Bearer ${presented}` } }, opts.token);

  app.get('/monitor', async (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    if (typeof token === 'string') {
      if (!check(token)) throw new AppError('UNAUTHORIZED', 'That monitor token is not valid; the server log prints the right link at start-up');
      setCookie(request, reply, token);
    }
    // Redirect so the token does not stay in the address bar or the history.
    return reply.redirect('/#monitor', 302);
  });

  app.post('/api/monitor/login', async (request, reply) => {
    const { token } = parseOrThrow(loginBody, request.body);
    if (!check(token)) throw new AppError('UNAUTHORIZED', 'That monitor token is not valid', { field: 'token' });
    setCookie(request, reply, token);
    return reply.code(204).send();
  });

  app.post('/api/monitor/logout', async (_request, reply) => {
    reply.header('set-cookie', `${COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return reply.code(204).send();
  });
}
