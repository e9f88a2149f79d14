// GET /api/monitor/catalogue: every metric, and every list the UI builds a picker from
// (rule operators, severities, channel kinds, webhook formats, modules, stages, log
// levels), each read from the one place the server defines it, so the browser never
// keeps a copy that can drift. The answer is described by a zod schema (OpenAPI).
import { z } from 'zod';
import { CONSOLE } from '../alerts/channel-type.js';
import { CHANNEL_TYPES } from '../alerts/notifiers/registry.js';
import { MESSAGE_STYLES, ROBOT_FORMATS } from '../alerts/notifiers/chat-robots.js';
import { WEBHOOK_FORMATS } from '../alerts/notifiers/webhook-formats.js';
import { NO_DATA, OPS, PER_REQUEST_METRIC, RULE_DEFAULTS, SAMPLE_METRIC, SEVERITIES } from '../alerts/rule-schema.js';
import { LEVELS, LOG_MODULES } from '../log/event-log.js';
import { catalogue, LAYERS } from '../metrics/catalogue.js';
import { MODEL_MODULES } from '../metrics/model-snapshot.js';
import { MODULES, STAGES } from '../metrics/model-stats.js';

const names = (values: readonly string[], what: string) =>
  z.array(z.enum(values as [string, ...string[]])).describe(what);

/** What GET /api/monitor/catalogue answers. */
export const catalogueResponse = z.object({
  metrics: z
    .array(
      z.object({
        name: z.string(),
        layer: z.enum(LAYERS),
        unit: z.string(),
        help: z.string(),
        labels: z.array(z.string()),
        thresholds: z
          .object({
            direction: z.enum(['above', 'below']),
            warn: z.number().nullable(),
            crit: z.number().nullable(),
            warnOp: z.enum(OPS),
            critOp: z.enum(OPS),
          })
          .optional()
          .describe(
            "the cards' default health lines: a value past warn (by warnOp) is a warning, past crit a critical one; null: no such line. An enabled rule watching the metric sets its own line instead (GET /api/monitor/snapshot shows each card's)",
          ),
      }),
    )
    .describe('every metric a rule or a chart can name'),
  layers: names(LAYERS, 'the layers metrics belong to, in display order'),
  rules: z.object({
    ops: names(OPS, "a condition's comparisons (op)"),
    severities: names(SEVERITIES, 'severity, least to most severe'),
    noData: names(NO_DATA, 'what a missing value means (noData)'),
    sampleMetric: z.string().describe('the metric rules with sampleSeconds work on'),
    perRequestMetric: z.string().describe('the metric per-request rules work on'),
    defaults: z
      .object({
        severity: z.enum(SEVERITIES),
        noData: z.enum(NO_DATA),
        repeatInterval: z.string(),
        channels: z.array(z.string()),
      })
      .describe('what a rule gets for a field left out'),
  }),
  channels: z.object({
    builtIn: z.array(z.string()).describe('channels that are always there and cannot be configured'),
    types: z.array(z.string()).describe('the kinds of channel that can be added (type)'),
    webhookFormats: names(WEBHOOK_FORMATS, "a webhook channel's body formats (format)"),
    robotFormats: names(
      ROBOT_FORMATS,
      'the formats that are chat robots: they take a message style and sign their own way',
    ),
    messageStyles: names(
      MESSAGE_STYLES,
      "a chat robot's message styles (style): rich (markdown, a card or blocks) or text",
    ),
  }),
  modules: names(MODULES, 'the model-layer label module'),
  stages: names(STAGES, 'the model-layer label stage'),
  modelView: z.object({ modules: names(MODEL_MODULES, 'the sections of GET /api/monitor/model') }),
  log: z.object({
    levels: names(LEVELS, 'log levels, lowest first (the level filter keeps this one and above)'),
    modules: names(LOG_MODULES, 'who writes log lines (the module filter)'),
  }),
});

export type CatalogueResponse = z.infer<typeof catalogueResponse>;

/** The answer, built once: every list here is fixed when the server starts. */
export const CATALOGUE: CatalogueResponse = {
  metrics: [...catalogue.values()].map((m) => ({ ...m, labels: [...m.labels] })),
  layers: [...LAYERS],
  rules: {
    ops: [...OPS],
    severities: [...SEVERITIES],
    noData: [...NO_DATA],
    sampleMetric: SAMPLE_METRIC,
    perRequestMetric: PER_REQUEST_METRIC,
    defaults: { ...RULE_DEFAULTS, channels: [...RULE_DEFAULTS.channels] },
  },
  channels: {
    builtIn: [CONSOLE],
    types: CHANNEL_TYPES.map((t) => t.type),
    webhookFormats: [...WEBHOOK_FORMATS],
    robotFormats: [...ROBOT_FORMATS],
    messageStyles: [...MESSAGE_STYLES],
  },
  modules: [...MODULES],
  stages: [...STAGES],
  modelView: { modules: [...MODEL_MODULES] },
  log: { levels: [...LEVELS], modules: [...LOG_MODULES] },
};
