// The N lowest-confidence OCR images of the last hour, kept as small thumbnails under
// DATA_DIR/ocr-samples/ so that an "OCR degrading" alert can show what the model was
// looking at (a thumbnail in the popup, an attachment in the mail, a signed link in
// webhooks). Opt-in (OCR_LOW_CONFIDENCE_SAMPLES, off by default): the images are the users'.
// Bounded: N files of at most a 320-pixel JPEG each, none older than an hour; thumbnails
// are made, and files written and removed, off the request path, one at a time.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import type { EventLog } from '../log/event-log.js';
import type { PreparedImage } from './preprocess.js';

export const THUMBNAIL_SIDE = 320;
const INDEX = 'index.json';

const sampleSchema = z.object({
  file: z.string().regex(/^[0-9a-f]{16}-\d+\.jpg$/),
  imageHash: z.string(),
  confidence: z.number(),
  lang: z.string().nullable(),
  requestId: z.string(),
  at: z.number(),
});
export type OcrSample = z.infer<typeof sampleSchema>;

export interface OcrSampleKeeperOptions {
  dir: string;
  /** How many to keep (the N lowest). */
  capacity: number;
  retentionMs?: number;
  clock: () => number;
  log: EventLog;
}

export class OcrSampleKeeper {
  private samples: OcrSample[] = [];
  /** Files written and not yet deleted: only these are offered to alerts. */
  private readonly ready = new Set<string>();
  private work: Promise<void> = Promise.resolve();
  private readonly retentionMs: number;

  constructor(private readonly opts: OcrSampleKeeperOptions) {
    this.retentionMs = opts.retentionMs ?? 3_600_000;
  }

  /** Reads the index left by the previous run; files it does not list (or too old) are removed. */
  load(): void {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    let listed: OcrSample[] = [];
    try {
      listed = z.array(sampleSchema).parse(JSON.parse(readFileSync(join(this.opts.dir, INDEX), 'utf8')));
    } catch {
      // No index (first start) or a damaged one: start empty, the sweep below removes the files.
    }
    const now = this.opts.clock();
    const files = new Set(readdirSync(this.opts.dir));
    this.samples = listed
      .filter((s) => files.has(s.file) && now - s.at < this.retentionMs)
      .sort((a, b) => a.confidence - b.confidence)
      .slice(0, this.opts.capacity);
    for (const s of this.samples) this.ready.add(s.file);
    for (const f of files) if (f !== INDEX && !this.ready.has(f)) rmSync(join(this.opts.dir, f), { force: true });
    const path = join(this.opts.dir, INDEX);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.samples), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  /**
   * An answered OCR request's image: kept when it is among the N lowest confidences of the
   * last hour. Returns at once; the thumbnail is written in the background.
   */
  offer(s: { image: PreparedImage; confidence: number; lang: string | null; requestId: string; at: number }): void {
    this.expire(s.at);
    const worst = this.samples.at(-1);
    if (this.samples.length >= this.opts.capacity && (!worst || s.confidence >= worst.confidence)) return;
    if (this.samples.some((k) => k.imageHash === s.image.hash)) return; // the same image again
    const sample: OcrSample = {
      file: `${s.image.hash}-${s.at}.jpg`,
      imageHash: s.image.hash,
      confidence: s.confidence,
      lang: s.lang,
      requestId: s.requestId,
      at: s.at,
    };
    this.samples = [...this.samples, sample].sort((a, b) => a.confidence - b.confidence);
    for (const gone of this.samples.splice(this.opts.capacity)) this.remove(gone);
    const dataUrl = s.image.dataUrl;
    this.queue(() => this.write(sample, dataUrl));
  }

  /** The kept samples, lowest confidence first, whose thumbnails exist. */
  lowest(now: number, limit: number): OcrSample[] {
    this.expire(now);
    return this.samples.filter((s) => this.ready.has(s.file)).slice(0, limit);
  }

  /** A thumbnail's bytes, or null when it is not (or no longer) kept. */
  async read(file: string): Promise<Buffer | null> {
    if (!this.ready.has(file)) return null;
    return readFile(join(this.opts.dir, file)).catch(() => null);
  }

  /** Forgets samples older than the retention (the scheduler calls this every check). */
  sweep(now: number): void {
    this.expire(now);
  }

  /** For tests and shutdown: every pending thumbnail written. */
  idle(): Promise<void> {
    return this.work;
  }

  private expire(now: number): void {
    const old = this.samples.filter((s) => now - s.at >= this.retentionMs);
    if (old.length === 0) return;
    this.samples = this.samples.filter((s) => now - s.at < this.retentionMs);
    for (const s of old) this.remove(s);
  }

  /** Forgotten at once; its file (if written, or once written) is deleted by the worker. */
  private remove(s: OcrSample): void {
    this.ready.delete(s.file);
    this.queue(async () => {
      await rm(join(this.opts.dir, s.file), { force: true });
      await this.saveIndex();
    });
  }

  private queue(job: () => Promise<void>): void {
    this.work = this.work.then(job).catch((err: unknown) => {
      this.opts.log.warn('ocr', 'OCR sample storage failed', { reason: (err as Error).message });
    });
  }

  private async write(sample: OcrSample, dataUrl: string): Promise<void> {
    if (!this.samples.includes(sample)) return;
    try {
      const bytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
      const thumb = await sharp(bytes)
        .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 70 })
        .toBuffer();
      if (!this.samples.includes(sample)) return;
      const path = join(this.opts.dir, sample.file);
      await writeFile(`${path}.tmp`, thumb, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
      // Evicted while it was being written: the removal ran before the file existed.
      if (!this.samples.includes(sample)) return void (await rm(path, { force: true }));
      this.ready.add(sample.file);
      await this.saveIndex();
    } catch (err) {
      this.samples = this.samples.filter((s) => s !== sample);
      this.opts.log.warn('ocr', 'OCR sample not kept', {
        image_hash: sample.imageHash,
        reason: (err as Error).message,
      });
    }
  }

  private async saveIndex(): Promise<void> {
    const path = join(this.opts.dir, INDEX);
    await writeFile(`${path}.tmp`, JSON.stringify(this.samples.filter((s) => this.ready.has(s.file))), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
}
