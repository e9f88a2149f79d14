// Atomic JSON persistence with a schema version: write a uniquely named temp file, fsync
// it, keep the previous good copy as .bak, rename into place, fsync the folder. A save
// lands whole or changes nothing: on failure the temp file is removed and the caller gets
// NOT_SAVED saying why (disk full, read-only, no permission), so it can leave its state
// as it was. A file that cannot be read is never overwritten: it is moved aside
// (.bad-<time>) and the last good copy is used. Temp files a crash left behind are
// removed at start (removeLeftoverTempFiles).
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import { AppError } from './errors.js';

/** The file operations a save uses; tests pass one that fails like a full or read-only disk. */
export type FileIo = Pick<
  typeof nodeFs,
  | 'openSync'
  | 'writeSync'
  | 'fsyncSync'
  | 'closeSync'
  | 'renameSync'
  | 'linkSync'
  | 'copyFileSync'
  | 'unlinkSync'
  | 'mkdirSync'
  | 'existsSync'
  | 'readFileSync'
>;

export const nodeFileIo: FileIo = nodeFs;

export interface LoadResult<T> {
  value: T;
  /** What went wrong reading the file, when something did. */
  problem?: string;
}

const WHY: Record<string, string> = {
  ENOSPC: 'the disk holding it is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'it is on a read-only file system',
  EACCES: 'the server may not write there (permissions)',
  EPERM: 'the server may not write there (permissions)',
  EIO: 'the disk reported an I/O error',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'part of its path is not a folder',
  EMFILE: 'the server has too many files open',
  ENFILE: 'the system has too many files open',
};

/** The API's answer to a failed save: what was not written and why. 507 when the disk is full. */
export function notSaved(err: unknown, path: string): AppError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const why = WHY[code] ?? (err as Error).message;
  return new AppError(
    'NOT_SAVED',
    `Not saved, so not applied: ${path} could not be written because ${why}${code ? ` (${code})` : ''}. Nothing was changed.`,
    {
      statusCode: code === 'ENOSPC' || code === 'EDQUOT' ? 507 : 500,
      cause: err,
    },
  );
}

/** `alert-rules.json.4242.9f3a1c.tmp` (and the older `….4242.tmp`): a save by process 4242. */
const TEMP_NAME = /\.(\d+)(?:\.[0-9a-f]+)?\.tmp$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // at start, nothing of ours is being written yet
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files that saves interrupted by a crash left in `dir`; a process that
 * is still running keeps its own. Returns the names removed.
 */
export function removeLeftoverTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    try {
      nodeFs.unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // read-only or already gone: nothing to do
    }
  }
  return removed;
}

export class JsonFile<S extends z.ZodType> {
  readonly version: number;
  private readonly io: FileIo;

  private readonly upgrade: ((version: number, data: unknown) => unknown) | undefined;

  /** `upgrade`: turns what an older version of the file holds into this version's data. */
  constructor(
    readonly path: string,
    private readonly schema: S,
    private readonly fallback: () => z.infer<S>,
    opts: { version?: number; io?: FileIo; upgrade?: (version: number, data: unknown) => unknown } = {},
  ) {
    this.version = opts.version ?? 1;
    this.io = opts.io ?? nodeFileIo;
    this.upgrade = opts.upgrade;
  }

  private parse(text: string): z.infer<S> {
    const doc = JSON.parse(text) as { version?: unknown; data?: unknown };
    let data = doc.data;
    if (doc.version !== this.version) {
      const older = typeof doc.version === 'number' && doc.version >= 1 && doc.version < this.version;
      if (!older || !this.upgrade) throw new Error(`schema version ${String(doc.version)}, expected ${this.version}`);
      data = this.upgrade(doc.version as number, data);
    }
    const r = this.schema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(issue ? `${issue.path.join('.') || '(data)'}: ${issue.message}` : r.error.message);
    }
    return r.data;
  }

  load(now = Date.now()): LoadResult<z.infer<S>> {
    if (!this.io.existsSync(this.path)) return { value: this.fallback() };
    try {
      return { value: this.parse(this.io.readFileSync(this.path, 'utf8')) };
    } catch (err) {
      const aside = `${this.path}.bad-${now}`;
      let problem = `${this.path} could not be read (${(err as Error).message})`;
      try {
        this.io.renameSync(this.path, aside);
        problem += `; it was moved to ${aside}`;
      } catch (moveErr) {
        problem += `; it could not be moved aside either (${(moveErr as NodeJS.ErrnoException).code ?? (moveErr as Error).message}), and is left as it is`;
      }
      let value: z.infer<S>;
      try {
        value = this.parse(this.io.readFileSync(`${this.path}.bak`, 'utf8'));
      } catch {
        return { value: this.fallback(), problem: `${problem}; no good copy, starting empty` };
      }
      problem += '; using the last good copy';
      try {
        this.save(value);
      } catch (saveErr) {
        problem += ` (not written back: ${(saveErr as Error).message})`;
      }
      return { value, problem };
    }
  }

  /** Writes `value` whole, or throws NOT_SAVED and leaves the file (and the folder) as they were. */
  save(value: z.infer<S>): void {
    const io = this.io;
    const suffix = `${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
    const tmp = `${this.path}.${suffix}`;
    const bakTmp = `${this.path}.bak.${suffix}`;
    try {
      io.mkdirSync(dirname(this.path), { recursive: true });
      const bytes = Buffer.from(
        JSON.stringify({ version: this.version, savedAt: new Date().toISOString(), data: value }, null, 1),
      );
      // 'wx': a new file, never one somebody left (or linked) there.
      const fd = io.openSync(tmp, 'wx', 0o600);
      try {
        for (let off = 0; off < bytes.length; ) off += io.writeSync(fd, bytes, off, bytes.length - off);
        io.fsyncSync(fd);
      } finally {
        io.closeSync(fd);
      }
      if (io.existsSync(this.path)) {
        // The previous good copy, by a hard link (no data to write on a full disk).
        try {
          io.linkSync(this.path, bakTmp);
        } catch {
          io.copyFileSync(this.path, bakTmp);
        }
        io.renameSync(bakTmp, `${this.path}.bak`);
      }
      io.renameSync(tmp, this.path);
    } catch (err) {
      for (const f of [tmp, bakTmp]) {
        try {
          io.unlinkSync(f);
        } catch {
          // never created, or already renamed
        }
      }
      throw notSaved(err, this.path);
    }
    syncFolder(dirname(this.path));
  }
}

/** Makes the rename itself durable (Linux); folders cannot be opened for this on Windows. */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = nodeFs.openSync(dir, 'r');
    nodeFs.fsyncSync(fd);
  } catch {
    // not supported here: the rename is still atomic, only its durability waits for the OS
  } finally {
    if (fd !== undefined) nodeFs.closeSync(fd);
  }
}
