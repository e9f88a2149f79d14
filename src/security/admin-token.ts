// MONITOR_ADMIN_TOKEN, asked for by every route that changes alerts: checked in onRequest,
// before the body is read, and throttled per peer address like the Monitor token (a
// missing header is no guess: the browser UI never sends one).
import type { onRequestHookHandler } from 'fastify';
import { safeEqual } from '../auth.js';
import { AppError } from '../errors.js';
import { checkGuess, guessThrottle } from './guesses.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route changes alerts: it asks for MONITOR_ADMIN_TOKEN (and the description says so). */
    adminToken?: boolean;
  }
}

const needed = () =>
  new AppError('UNAUTHORIZED', 'Changing alerts needs the admin token: send X-Admin-Token (MONITOR_ADMIN_TOKEN)');

/** The onRequest hook of a route that changes alerts; passes everything when no admin token is set. */
export function adminTokenCheck(adminToken: string | undefined, clock: () => number): onRequestHookHandler {
  const throttle = guessThrottle('adminToken', clock);
  return (request, reply, done) => {
    if (!adminToken) return done();
    const given = request.headers['x-admin-token'];
    if (typeof given !== 'string') return done(needed());
    try {
      checkGuess(request, reply, {
        throttle,
        what: 'admin tokens',
        isRight: () => safeEqual(given, adminToken),
        wrong: needed,
      });
    } catch (err) {
      return done(err as AppError);
    }
    done();
  };
}
