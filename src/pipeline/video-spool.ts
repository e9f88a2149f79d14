// Videos on their way to the model server wait in temporary files, never whole in memory:
// an upload, a fetched URL or a data URL is written to DATA_DIR/uploads piece by piece
// (counted against VIDEO_MAX_BYTES as it arrives), read back in pieces, and removed when
// its request ends, whichever way it ends. DATA_DIR rather than the system's temp folder:
// it is the place the operator gave us to write, and /tmp is often RAM (tmpfs). A file a
// killed process left behind is removed at the next start.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';

const SUFFIX = '.part';

export class VideoSpool {
  constructor(readonly dir: string) {}

  /** Removes the files a previous process left (it was killed mid-upload); returns how many. */
  async clearLeftovers(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0; // no folder yet: nothing was ever spooled
    }
    const left = names.filter((n) => n.endsWith(SUFFIX));
    await Promise.all(left.map((n) => rm(join(this.dir, n), { force: true })));
    return left.length;
  }

  /** A new, empty file of our own (mode 0600; created, never opened if it exists). */
  async create(): Promise<SpoolFile> {
    const path = join(this.dir, `video-${process.pid}-${randomBytes(8).toString('hex')}${SUFFIX}`);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      return new SpoolFile(path, await open(path, 'wx', 0o600));
    } catch (err) {
      throw notStored(err);
    }
  }
}

/** A temporary file being written, then read; `dispose()` removes it, once, from any path. */
export class SpoolFile {
  private bytesWritten = 0;
  private handle: FileHandle | null;
  private disposed: Promise<void> | null = null;

  constructor(
    readonly path: string,
    handle: FileHandle,
  ) {
    this.handle = handle;
  }

  get bytes(): number {
    return this.bytesWritten;
  }

  get isDisposed(): boolean {
    return this.disposed !== null;
  }

  /** Appends a piece; a disk that refuses it is a 507 (full) or 500 naming DATA_DIR. */
  async append(chunk: Buffer): Promise<void> {
    if (!this.handle) throw new AppError('CLIENT_CLOSED', 'The request ended before its video was stored');
    try {
      for (let at = 0; at < chunk.length; ) {
        const { bytesWritten } = await this.handle.write(chunk, at, chunk.length - at);
        at += bytesWritten;
      }
    } catch (err) {
      throw notStored(err);
    }
    this.bytesWritten += chunk.length;
  }

  /** Everything is written: the file is closed and may be read. */
  async finish(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }

  /** Closes and removes the file; safe to call any number of times, never throws. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      const h = this.handle;
      this.handle = null;
      await h?.close().catch(() => {});
      await rm(this.path, { force: true }).catch(() => {});
    })();
    return this.disposed;
  }
}

/** The client hears which setting's folder failed, not the server's paths. */
function notStored(err: unknown): AppError {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new AppError('NOT_SAVED', `The video could not be stored in DATA_DIR/uploads: the disk is full (${code})`, {
      statusCode: 507,
      cause: err,
    });
  return new AppError('NOT_SAVED', `The video could not be stored in DATA_DIR/uploads (${code || 'write failed'})`, {
    cause: err,
  });
}
