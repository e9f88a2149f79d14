// Atomic JSON persistence with a schema version: write a temp file, fsync, keep the
// previous good copy as .bak, rename into place. A file that cannot be read is never
// overwritten: it is moved aside (.bad-<time>) and the last good copy is used.
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';

export interface LoadResult<T> {
  value: T;
  /** What went wrong reading the file, when something did. */
  problem?: string;
}

export class JsonFile<S extends z.ZodType> {
  constructor(readonly path: string, private readonly schema: S, private readonly fallback: () => z.infer<S>, readonly version = 1) {}

  private parse(text: string): z.infer<S> {
    const doc = JSON.parse(text) as { version?: unknown; data?: unknown };
    if (doc.version !== this.version) throw new Error(`schema version ${String(doc.version)}, expected ${this.version}`);
    const r = this.schema.safeParse(doc.data);
    if (!r.success) throw new Error(`${r.error.issues[0]!.path.join('.') || '(data)'}: ${r.error.issues[0]!.message}`);
    return r.data;
  }

  load(now = Date.now()): LoadResult<z.infer<S>> {
    if (!existsSync(this.path)) return { value: this.fallback() };
    try {
      return { value: this.parse(readFileSync(this.path, 'utf8')) };
    } catch (err) {
      const aside = `${this.path}.bad-${now}`;
      renameSync(this.path, aside);
      let problem = `${this.path} could not be read (${(err as Error).message}); it was moved to ${aside}`;
      try {
        const value = this.parse(readFileSync(`${this.path}.bak`, 'utf8'));
        problem += '; using the last good copy';
        this.save(value);
        return { value, problem };
      } catch {
        return { value: this.fallback(), problem: `${problem}; no good copy, starting empty` };
      }
    }
  }

  save(value: z.infer<S>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ version: this.version, savedAt: new Date().toISOString(), data: value }, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (existsSync(this.path)) copyFileSync(this.path, `${this.path}.bak`);
    renameSync(tmp, this.path);
  }
}
