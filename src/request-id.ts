// Request ids: twelve hex digits, random, drawn from a pool filled 4 KiB at a time. One
// randomBytes() call per request cost 2.5 % of a relayed chat request's CPU (a call into
// OpenSSL each time); the ids are for finding a request in the logs, not secrets.
import { randomFillSync } from 'node:crypto';

const ID_BYTES = 6;
const pool = Buffer.alloc(4096 - (4096 % ID_BYTES));
let next = pool.length;

export function newRequestId(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  next += ID_BYTES;
  return pool.toString('hex', next - ID_BYTES, next);
}
