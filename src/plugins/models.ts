// The model routes (/v1 chat and pass-through, OCR, GUI, video) as one plugin, in their
// own context: the API-key check and the ModelRequest every model request ends through
// apply to them and to nothing else of the app.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { EventLog } from '../log/event-log.js';
import type { Monitor } from '../monitor.js';
import type { ImageFetcher } from '../pipeline/image-input.js';
import { installApiKeyCheck } from '../security/api-keys.js';
import { chatRoutes } from '../routes/chat.js';
import { guiRoutes } from '../routes/gui.js';
import { trackModelRequests } from '../routes/model-request-hook.js';
import type { ModelRouteOptions, OcrSampleSink } from '../routes/model-route-options.js';
import { ocrRoutes } from '../routes/ocr.js';
import { openAiRoutes } from '../routes/openai.js';
import { videoRoutes } from '../routes/video.js';
import type { UpstreamClient } from '../upstream/client.js';

export interface ModelPluginOptions {
  config: Config;
  upstream: UpstreamClient;
  log: EventLog;
  clock: () => number;
  /** Null when the Monitor is off: the routes then keep no statistics. */
  monitor: Monitor | null;
  imageFetcher: ImageFetcher;
  ocrSamples: OcrSampleSink | null;
}

export async function modelPlugin(app: FastifyInstance, opts: ModelPluginOptions): Promise<void> {
  const { config, upstream, log, clock, monitor } = opts;
  // Before the body is read; wrong keys throttled per address (security/api-keys.ts).
  installApiKeyCheck(app, config.API_KEYS, clock);
  trackModelRequests(app, {
    log,
    clock,
    stats: monitor?.model ?? null,
    clients: monitor?.clients ?? null,
    gpuFree: monitor ? () => monitor.gpuFreeNow() : undefined,
  });
  await app.register(chatRoutes, {
    upstream,
    chatStats: monitor?.stats.chat ?? null,
    defaultModel: config.UPSTREAM_MODEL,
    clock,
  });
  await app.register(openAiRoutes, { upstream, clock });
  const modelOpts: ModelRouteOptions = {
    upstream,
    log,
    modelStats: monitor?.model ?? null,
    clock,
    defaultModel: config.UPSTREAM_MODEL,
    imageLimits: {
      maxBytes: config.IMAGE_MAX_BYTES,
      fetchTimeoutMs: config.IMAGE_FETCH_TIMEOUT_MS,
      fetcher: opts.imageFetcher,
    },
    imageBudget: {
      maxPixels: config.IMAGE_MAX_PIXELS,
      maxSide: config.IMAGE_MAX_SIDE,
      maxInputPixels: config.IMAGE_MAX_INPUT_PIXELS,
      onFailure: config.IMAGE_ON_PREPROC_FAILURE,
    },
    // Read at each OCR answer: the confidence card's warning line, so the log's WARN, the
    // card and the rule watching it say one number (OCR_CONFIDENCE_THRESHOLD until a rule sets one).
    get ocrConfidenceThreshold() {
      return monitor?.thresholds.ocrLowConfidence() ?? config.OCR_CONFIDENCE_THRESHOLD;
    },
    ocrMaxTokens: config.OCR_MAX_TOKENS,
    guiStepTimeoutMs: config.GUI_STEP_TIMEOUT_MS,
    video: {
      fps: config.VIDEO_FPS,
      minFrames: config.VIDEO_MIN_FRAMES,
      maxFrames: config.VIDEO_MAX_FRAMES,
      frameBudget: {
        maxPixels: config.VIDEO_FRAME_MAX_PIXELS,
        maxInputPixels: config.IMAGE_MAX_INPUT_PIXELS,
        onFailure: config.IMAGE_ON_PREPROC_FAILURE,
      },
      maxBytes: config.VIDEO_MAX_BYTES,
      maxConcurrent: config.VIDEO_MAX_CONCURRENT,
      spoolDir: join(config.DATA_DIR, 'uploads'),
    },
    ocrSamples: opts.ocrSamples,
  };
  await app.register(ocrRoutes, modelOpts);
  await app.register(guiRoutes, modelOpts);
  await app.register(videoRoutes, modelOpts);
}
