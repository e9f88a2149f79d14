// Monitor sign-ins: each login gets its own random session id (the cookie), which logout
// revokes. Only a hash of each id is kept, in DATA_DIR/monitor-sessions.json, so a copy
// of the file signs nobody in; sessions survive restarts and die when the token changes.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { JsonFile, type FileIo } from '../json-file.js';

/** As long as the cookie's Max-Age; Grafana's login_maximum_lifetime_duration. */
export const SESSION_MAX_AGE_MS = 30 * 24 * 3_600_000;

const fileSchema = z.object({
  token: z.string(),
  sessions: z.array(z.object({ idHash: z.string(), createdAt: z.number(), expiresAt: z.number() })),
});
type Stored = z.infer<typeof fileSchema>['sessions'][number];

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

export class SessionStore {
  private readonly file: JsonFile<typeof fileSchema>;
  private readonly tokenId: string;
  /** Where the sessions are kept: DATA_DIR/monitor-sessions.json. */
  readonly path: string;
  private sessions = new Map<string, Stored>();

  constructor(
    dataDir: string,
    token: string,
    private readonly clock: () => number,
    io?: FileIo,
    private readonly maxSessions = 1_000,
  ) {
    this.path = join(dataDir, 'monitor-sessions.json');
    this.file = new JsonFile(this.path, fileSchema, () => ({ token: '', sessions: [] }), io ? { io } : {});
    this.tokenId = hash(`qwen3vl-session-token:${token}`).slice(0, 16);
  }

  /** Reads the saved sessions; those of another token, or expired, are dropped. */
  load(): string | undefined {
    const { value, problem } = this.file.load(this.clock());
    const now = this.clock();
    if (value.token === this.tokenId) {
      for (const s of value.sessions) if (s.expiresAt > now) this.sessions.set(s.idHash, s);
    }
    return problem;
  }

  private save(next: Map<string, Stored>): void {
    this.file.save({ token: this.tokenId, sessions: [...next.values()] });
  }

  /** A new session id; saved before it is handed out (throws when it cannot be). */
  create(): string {
    const now = this.clock();
    const id = randomBytes(32).toString('base64url');
    const next = new Map([...this.sessions].filter(([, s]) => s.expiresAt > now));
    next.set(hash(id), { idHash: hash(id), createdAt: now, expiresAt: now + SESSION_MAX_AGE_MS });
    for (const key of next.keys()) {
      if (next.size <= this.maxSessions) break;
      next.delete(key);
    }
    this.save(next);
    this.sessions = next;
    return id;
  }

  valid(id: string): boolean {
    const s = this.sessions.get(hash(id));
    return s !== undefined && s.expiresAt > this.clock();
  }

  /**
   * Logout: the id stops working at once in this process, whether or not the file can be
   * written (a sign-out is never refused). Returns whether there was such a session, and
   * the save's error when the file could not be written: then a restart before the next
   * successful save (any later login or logout) would bring the session back from the file.
   */
  revoke(id: string): { revoked: boolean; notSaved: Error | null } {
    const key = hash(id);
    if (!this.sessions.has(key)) return { revoked: false, notSaved: null };
    const next = new Map(this.sessions);
    next.delete(key);
    this.sessions = next;
    try {
      this.save(next);
    } catch (err) {
      return { revoked: true, notSaved: err as Error };
    }
    return { revoked: true, notSaved: null };
  }

  get size(): number {
    return this.sessions.size;
  }
}
