// What every model endpoint (OCR, GUI, video) is given by the app factory.
import type { EventLog } from '../log/event-log.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { ModelStats } from '../metrics/model-stats.js';
import type { ImageFetchLimits } from '../pipeline/image-input.js';
import type { ImageBudget } from '../pipeline/preprocess.js';
import type { VideoSampling } from '../pipeline/frame-sampling.js';
import type { UpstreamClient } from '../upstream/client.js';

export interface ModelRouteOptions {
  upstream: UpstreamClient;
  log: EventLog;
  /** Null when the Monitor is off. */
  modelStats: ModelStats | null;
  clients: ClientStats | null;
  clock: () => number;
  defaultModel: string | undefined;
  imageLimits: ImageFetchLimits;
  imageBudget: ImageBudget;
  ocrConfidenceThreshold: number;
  ocrMaxTokens: number;
  guiStepTimeoutMs: number;
  video: VideoSampling & { frameBudget: ImageBudget; maxBytes: number };
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Extra context (image hashes and sizes) that an ERROR line about this request carries;
     * a function when it is costly to compute and only needed if such a line is written.
     */
    logContext: Record<string, string | number> | (() => Record<string, string | number>) | null;
  }
}
