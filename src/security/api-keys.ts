// API_KEYS on the model routes: checked in onRequest, before the body is read (a refused
// client never has its 50 MiB parsed), and throttled per peer address like the Monitor
// token. A request without a key is no guess: it gets 401 and is not counted.
import type { FastifyInstance } from 'fastify';
import { bearer, safeEqual } from '../auth.js';
import { AppError } from '../errors.js';
import { checkGuess, guessThrottle } from './guesses.js';

const needed = () => new AppError('UNAUTHORIZED', 'This server requires an API key: send Authorization: Bearer <key>');

/** Installs the check on `app` (the model routes' context); nothing when no keys are set. */
export function installApiKeyCheck(app: FastifyInstance, keys: readonly string[], clock: () => number): void {
  if (keys.length === 0) return;
  const throttle = guessThrottle('apiKey', clock);
  app.addHook('onRequest', (request, reply, done) => {
    const presented = bearer(request.headers);
    if (presented === undefined) return done(needed());
    try {
      checkGuess(request, reply, {
        throttle,
        what: 'API keys',
        isRight: () => keys.some((k) => safeEqual(presented, k)),
        wrong: needed,
      });
    } catch (err) {
      return done(err as AppError);
    }
    done();
  });
}
