// Signing in to the Monitor: the ready-to-open link printed at start-up
// (GET /monitor?token=…) and a login form (POST /api/monitor/login) each start a new
// session (its own cookie); POST /api/monitor/logout revokes it, even when the sessions
// file cannot be written. Wrong tokens are throttled per client address (5 within 5
// minutes lock it out for the rest of them; security/guesses.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { COOKIE_NAME, safeEqual, sessionCookie } from '../auth.js';
import { AppError } from '../errors.js';
import type { EventLog } from '../log/event-log.js';
import { checkGuess } from '../security/guesses.js';
import type { FailureThrottle } from '../security/throttle.js';
import { SESSION_MAX_AGE_MS, type SessionStore } from '../security/sessions.js';
import type { ZodApp } from '../route-schema.js';

export const loginBody = z.object({ token: z.string({ message: 'required: the monitor token' }).min(1).max(1_024) });

export interface LoginRouteOptions {
  token: string;
  sessions: SessionStore;
  throttle: FailureThrottle;
  /** Where a sign-out that could not be saved is reported. */
  log: EventLog;
}

/** Secure whenever the browser reached us over HTTPS, directly or through a TLS proxy. */
function cookieFlags(request: FastifyRequest): string {
  const secure = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  return `Path=/; HttpOnly; SameSite=Strict${secure}`;
}

/**
 * Checks a presented token against the throttle: 429 while this client is locked out
 * (right token or not, so a lock-out reveals nothing), 401 for a wrong one.
 */
export function checkToken(
  request: FastifyRequest,
  reply: FastifyReply,
  presented: string,
  opts: LoginRouteOptions,
  field?: string,
): void {
  checkGuess(request, reply, {
    throttle: opts.throttle,
    what: 'monitor tokens',
    isRight: () => safeEqual(presented, opts.token),
    wrong: () =>
      new AppError(
        'UNAUTHORIZED',
        'That monitor token is not valid; the server log prints the right link at start-up',
        field ? { field } : {},
      ),
  });
}

/** Why a save failed, as one line: `EROFS: read-only file system, open`. */
function whyNotSaved(err: Error): string {
  const cause = (err.cause ?? err) as NodeJS.ErrnoException;
  return cause.code && !cause.message.startsWith(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
}

/** `GET /monitor?token=`: the link an operator is sent; other query keys are the browser's business. */
const monitorQuery = z.looseObject({ token: z.string().optional() });

/** A sign-out that took effect here but could not be saved (a 204 when it was). */
const notSavedAnswer = z.object({ signedOut: z.literal(true), saved: z.literal(false), message: z.string() });
const tags = ['Access'];

export async function loginRoutes(root: FastifyInstance, opts: LoginRouteOptions): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const signIn = (request: FastifyRequest, reply: FastifyReply) => {
    const id = opts.sessions.create();
    reply.header('set-cookie', `${COOKIE_NAME}=${id}; ${cookieFlags(request)}; Max-Age=${SESSION_MAX_AGE_MS / 1_000}`);
  };

  const linkRoute = {
    schema: {
      tags,
      summary: 'The start-up link: sets the Monitor cookie from ?token= and redirects',
      querystring: monitorQuery,
      response: { 302: z.undefined().describe('To the Monitor (/#monitor), the cookie set') },
    },
  };
  app.get('/monitor', linkRoute, async (request, reply) => {
    const { token } = request.query;
    if (typeof token === 'string') {
      checkToken(request, reply, token, opts);
      signIn(request, reply);
    }
    // Redirect so the token does not stay in the address bar or the history.
    return reply.redirect('/#monitor', 302);
  });

  const loginRoute = {
    schema: {
      tags,
      summary: 'Starts a Monitor session (cookie)',
      body: loginBody,
      response: { 204: z.undefined().describe('Signed in: the session cookie is set') },
    },
  };
  app.post('/api/monitor/login', loginRoute, async (request, reply) => {
    const { token } = request.body;
    checkToken(request, reply, token, opts, 'token');
    signIn(request, reply);
    return reply.code(204).send();
  });

  // A sign-out always takes effect here and clears the cookie: refusing it because the
  // disk is read-only would leave the session the user wants ended working.
  const logoutRoute = {
    schema: {
      tags,
      summary: "Ends this browser's session",
      response: { 200: notSavedAnswer, 204: z.undefined().describe('Signed out, and saved') },
    },
  };
  app.post('/api/monitor/logout', logoutRoute, async (request, reply) => {
    const id = sessionCookie(request.headers);
    const { notSaved } = id !== undefined ? opts.sessions.revoke(id) : { notSaved: null };
    reply.header('set-cookie', `${COOKIE_NAME}=; ${cookieFlags(request)}; Max-Age=0`);
    if (!notSaved) return reply.code(204).send();
    const file = opts.sessions.path;
    const why = whyNotSaved(notSaved);
    opts.log.warn('http', 'Sign-out not saved: the session would come back after a restart', {
      request_id: request.id,
      file,
      reason: why,
    });
    return reply.code(200).send({
      signedOut: true,
      saved: false,
      message:
        `Signed out: this session no longer works on this server. But the sign-out could not be saved (${file}: ${why}), ` +
        'so if the server restarts before a later sign-in or sign-out is saved, the session works again until it expires ' +
        '(changing MONITOR_TOKEN ends every session)',
    });
  });
}
