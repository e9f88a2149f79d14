// Every secret a client can guess is throttled per peer address: the Monitor token (login,
// link, Bearer), the admin token (X-Admin-Token) and the API keys. While an address is
// locked out it gets 429 with Retry-After whatever it presents, so a lock-out reveals
// nothing about the secret; a secret not presented at all is not a guess.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { FailureThrottle } from './throttle.js';

/** How many wrong guesses of each secret, within how long, lock an address out. */
export const GUESS_LIMITS = {
  /** Grafana's brute-force protection for its login: 5 within 5 minutes. */
  monitorToken: { maxFailures: 5, windowMs: 5 * 60_000 },
  /** As the login: a person types it. */
  adminToken: { maxFailures: 5, windowMs: 5 * 60_000 },
  /** Programs send it on every request: a wrong key after a rotation locks out for a minute at most. */
  apiKey: { maxFailures: 10, windowMs: 60_000 },
} as const;

export function guessThrottle(secret: keyof typeof GUESS_LIMITS, clock: () => number): FailureThrottle {
  return new FailureThrottle({ clock, ...GUESS_LIMITS[secret] });
}

/** The peer address a guess is counted against (not a header: those are the client's to choose). */
export const peerOf = (request: FastifyRequest) => request.socket.remoteAddress ?? 'unknown';

/**
 * Checks one guess: throws 429 (Retry-After set) while the peer is locked out, the error
 * `wrong` makes when `isRight` says no (counted), and clears the peer's count when right.
 */
export function checkGuess(
  request: FastifyRequest,
  reply: FastifyReply,
  guess: { throttle: FailureThrottle; what: string; isRight: () => boolean; wrong: () => AppError },
): void {
  const peer = peerOf(request);
  const lockedMs = guess.throttle.lockedForMs(peer);
  if (lockedMs > 0) {
    const seconds = Math.ceil(lockedMs / 1_000);
    reply.header('retry-after', String(seconds));
    throw new AppError('TOO_MANY_REQUESTS', `Too many wrong ${guess.what} from ${peer}; try again in ${seconds} s`);
  }
  if (!guess.isRight()) {
    guess.throttle.fail(peer);
    throw guess.wrong();
  }
  guess.throttle.succeed(peer);
}
