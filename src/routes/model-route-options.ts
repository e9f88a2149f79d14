// What every model endpoint (OCR, GUI, video) is given by the app factory.
import type { EventLog } from '../log/event-log.js';
import type { ModelStats } from '../metrics/model-stats.js';
import type { ImageFetchLimits } from '../pipeline/image-input.js';
import type { ImageBudget, PreparedImage } from '../pipeline/preprocess.js';
import type { VideoSampling } from '../pipeline/frame-sampling.js';
import type { UpstreamClient } from '../upstream/client.js';

export interface ModelRouteOptions {
  upstream: UpstreamClient;
  log: EventLog;
  /** Null when the Monitor is off. */
  modelStats: ModelStats | null;
  clock: () => number;
  defaultModel: string | undefined;
  imageLimits: ImageFetchLimits;
  imageBudget: ImageBudget;
  ocrConfidenceThreshold: number;
  ocrMaxTokens: number;
  guiStepTimeoutMs: number;
  video: VideoSampling & {
    frameBudget: ImageBudget;
    maxBytes: number;
    /** Large uploads at once (VIDEO_MAX_CONCURRENT). */
    maxConcurrent: number;
    /** Where videos wait on their way to the model server (DATA_DIR/uploads). */
    spoolDir: string;
  };
  /** Keeps the lowest-confidence OCR images (OCR_LOW_CONFIDENCE_SAMPLES); null when off. */
  ocrSamples: OcrSampleSink | null;
}

/** Where an answered OCR request's image is offered as a possible low-confidence sample. */
export interface OcrSampleSink {
  offer(sample: { image: PreparedImage; confidence: number; lang: string | null; requestId: string; at: number }): void;
}
