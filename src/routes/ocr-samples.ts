// GET /api/monitor/ocr-samples/:file: the thumbnails of the lowest-confidence OCR images
// (OCR_LOW_CONFIDENCE_SAMPLES). The Monitor's own access rules apply, or a signed link that
// an alert carries (expiring, for one file): a webhook's chat robot can show the image
// without ever holding the Monitor token.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { ZodApp } from '../route-schema.js';
import type { OcrSampleKeeper } from '../pipeline/ocr-samples.js';

const LINK_TTL_MS = 24 * 3_600_000;

/** Signs and checks links to one thumbnail: HMAC-SHA256 of the file and its expiry. */
export class SampleLinks {
  private readonly key: Buffer;
  constructor(
    secret: string,
    private readonly base: string,
  ) {
    this.key = createHmac('sha256', secret).update('qwen3vl-ocr-sample-links-v1').digest();
  }

  private sign(file: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${file}.${exp}`).digest('base64url');
  }

  /** An absolute link when PUBLIC_URL is set (webhooks need one), else a path. */
  link(file: string, now: number): string {
    const exp = now + LINK_TTL_MS;
    return `${this.base}/api/monitor/ocr-samples/${file}?exp=${exp}&sig=${this.sign(file, exp)}`;
  }

  verify(file: string, exp: number, sig: string, now: number): boolean {
    if (!(exp > now)) return false;
    const want = Buffer.from(this.sign(file, exp));
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

/** A sample's file name; any other name is no sample (404, as for one no longer kept). */
const SAMPLE_FILE = /^[0-9a-f]{16}-\d+\.jpg$/;

const sampleRoute = {
  schema: {
    tags: ['Monitor'],
    summary: 'A lowest-confidence OCR thumbnail (Monitor access or a signed link)',
    params: z.object({
      file: z.string().describe('<16 hex digits>-<n>.jpg, as an alert or the Model Metrics view links it'),
    }),
    querystring: z.strictObject({
      exp: z.coerce.number().int().optional().describe("A signed link's expiry (ms since the epoch)"),
      sig: z.string().max(100).optional().describe("A signed link's signature"),
    }),
    response: {
      200: {
        content: {
          'image/jpeg': { schema: z.instanceof(Buffer).meta({ type: 'string', format: 'binary' }) },
        },
      },
    },
  },
};

export async function ocrSampleRoutes(
  root: FastifyInstance,
  opts: {
    keeper: OcrSampleKeeper;
    links: SampleLinks;
    /** The Monitor's own access check (token, cookie, loopback). */
    mayAccess: (request: FastifyRequest) => boolean;
    clock: () => number;
  },
): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  app.get('/api/monitor/ocr-samples/:file', sampleRoute, async (request, reply) => {
    const { file } = request.params;
    const { exp, sig } = request.query;
    if (!SAMPLE_FILE.test(file)) throw new AppError('NOT_FOUND', 'No such OCR sample');
    const signed = exp !== undefined && sig !== undefined && opts.links.verify(file, exp, sig, opts.clock());
    if (!signed && !opts.mayAccess(request)) {
      throw new AppError(
        'UNAUTHORIZED',
        'OCR samples need the monitor token or a signed link from an alert (links expire after 24 h)',
      );
    }
    const bytes = await opts.keeper.read(file);
    if (!bytes) throw new AppError('NOT_FOUND', 'This OCR sample is no longer kept (samples are kept for an hour)');
    return reply.header('content-type', 'image/jpeg').header('cache-control', 'private, max-age=3600').send(bytes);
  });
}
