// How POST /api/video takes large uploads without holding the event loop or the heap: a
// slot under VIDEO_MAX_CONCURRENT is taken before the body is read (429 past it, the body
// left unread), a video sent as the body is streamed into a temporary file rather than a
// Buffer, and the slot and the file are given back when the video has reached the model
// server or the request ends, however it ends (answered, refused, failed, client gone).
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.js';
import { UploadSlots, type UploadLease } from '../pipeline/upload-slots.js';
import { spoolStream } from '../pipeline/video-input.js';
import { type SpoolFile, VideoSpool } from '../pipeline/video-spool.js';

/** Content types of a video sent as the body itself. */
export const VIDEO_TYPES = ['video/mp4', 'video/quicktime', 'video/x-m4v', 'application/octet-stream'];
/**
 * A JSON body this large (or of unknown length) is a large upload too: a video as a data
 * URL, or many frames. Smaller ones (a video URL, a few frames) take no slot until they
 * fetch a video.
 */
const LARGE_BODY_BYTES = 1024 * 1024;
/** A guess, not a promise: uploads of 200 MiB over a LAN take seconds. */
export const RETRY_AFTER_SECONDS = 5;

/** What one request holds: a slot and a spooled video, given back by `end()`. */
export class VideoUpload {
  private lease: UploadLease | null = null;
  private spooled: SpoolFile | null = null;

  constructor(
    private readonly slots: UploadSlots,
    private readonly reply: FastifyReply,
  ) {}

  /**
   * Takes a slot unless this request holds one; 429 when none is free. `bodyUnread`: the
   * refusal closes the connection, so that the body it carries is never read.
   */
  reserve(bodyUnread: boolean): void {
    if (this.lease) return;
    this.lease = this.slots.tryAcquire();
    if (this.lease) return;
    this.reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    if (bodyUnread) this.reply.header('connection', 'close');
    throw new AppError(
      'TOO_MANY_REQUESTS',
      `${this.slots.limit} large video uploads are in progress, the most at once (VIDEO_MAX_CONCURRENT); try again in ${RETRY_AFTER_SECONDS} s`,
    );
  }

  /** The file this request's video is written to; removed by `end()`. */
  adopt(file: SpoolFile): SpoolFile {
    this.spooled = file;
    return file;
  }

  /** Gives the slot back and removes the file; safe to call again. */
  async end(): Promise<void> {
    this.lease?.release();
    this.lease = null;
    const file = this.spooled;
    this.spooled = null;
    await file?.dispose();
  }
}

export class VideoUploads {
  readonly spool: VideoSpool;
  private readonly slots: UploadSlots;
  private readonly byRequest = new WeakMap<FastifyRequest, VideoUpload>();

  constructor(private readonly opts: { maxBytes: number; maxConcurrent: number; spoolDir: string }) {
    this.spool = new VideoSpool(opts.spoolDir);
    this.slots = new UploadSlots(opts.maxConcurrent);
  }

  /** Large uploads in flight now. */
  get inUse(): number {
    return this.slots.inUse;
  }

  /** The request's upload (made by the onRequest hook). */
  of(request: FastifyRequest): VideoUpload {
    const upload = this.byRequest.get(request);
    if (!upload) throw new AppError('INTERNAL', `route ${request.routeOptions.url} has no video upload hook`);
    return upload;
  }

  /** Before the body is read: the size a video body declares, and a slot for a large one. */
  onRequest: onRequestHookHandler = (request, reply, done) => {
    const upload = new VideoUpload(this.slots, reply);
    this.byRequest.set(request, upload);
    // 'close' comes once the answer is sent or the connection is gone, whatever happened before.
    reply.raw.once('close', () => void upload.end());
    const isFile = VIDEO_TYPES.includes(essence(request.headers['content-type']));
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (isFile && declared > this.opts.maxBytes) {
      reply.header('connection', 'close');
      return done(this.tooLarge());
    }
    const unknownLength = Number.isNaN(declared) && request.headers['transfer-encoding'] !== undefined;
    if (isFile || unknownLength || declared >= LARGE_BODY_BYTES) {
      try {
        upload.reserve(true);
      } catch (err) {
        return done(err as AppError);
      }
    }
    done();
  };

  /** The content-type parser of a video sent as the body: the body becomes a SpoolFile. */
  parse = async (request: FastifyRequest, body: AsyncIterable<Buffer>): Promise<SpoolFile> => {
    const file = this.of(request).adopt(await this.spool.create());
    try {
      await spoolStream(body, file, this.opts.maxBytes, () => this.tooLarge());
      await file.finish();
      return file;
    } catch (err) {
      await file.dispose();
      throw err;
    }
  };

  private tooLarge(): AppError {
    return new AppError(
      'BODY_TOO_LARGE',
      `The request body is larger than the limit of ${this.opts.maxBytes} bytes (VIDEO_MAX_BYTES)`,
    );
  }
}

/** `video/mp4; codecs=…` → `video/mp4`. */
function essence(contentType: string | undefined): string {
  return ((contentType ?? '').split(';')[0] ?? '').trim().toLowerCase();
}
