// The server's answers as the browser reads them, typed from the server's own definitions
// (src/, mostly zod schemas): one definition for both sides, checked by `tsc -p
// tsconfig.ui.json`. Types only: no page loads this module (JSDoc imports are erased).

/**
 * @template {import('zod').ZodType} S
 * @typedef {import('zod').infer<S>} Infer
 */

// Why a figure is missing, as codes (src/reasons.ts).
/** @typedef {import('../../src/reasons.js').ReasonCode} ReasonCode */
/** @typedef {import('../../src/reasons.js').ReasonPart} ReasonPart */

// The Monitor's cards, host strip and stream.
/** @typedef {import('../../src/metrics/snapshot.js').Snapshot} Snapshot */
/** @typedef {import('../../src/metrics/snapshot.js').Card} Card */
/** @typedef {import('../../src/metrics/snapshot.js').HostItem} HostItem */
/** @typedef {import('../../src/metrics/snapshot.js').Spark} Spark */
/** @typedef {import('../../src/metrics/change.js').Trend} Trend */
/** @typedef {import('../../src/metrics/thresholds.js').Lines} Lines */
/** @typedef {import('../../src/routes/catalogue.js').CatalogueResponse} Catalogue */
/** @typedef {Catalogue['metrics'][number]} CatalogueMetric */
/** @typedef {Infer<typeof import('../../src/routes/monitor-api.js').seriesAnswer>} SeriesAnswer */
/** @typedef {Infer<typeof import('../../src/routes/monitor-api.js').modelAnswer>} ModelAnswer */
/** @typedef {import('../../src/metrics/model-snapshot.js').ModelCard} ModelCard */
/** @typedef {import('../../src/metrics/model-snapshot.js').ModuleView} ModuleView */

// The log.
/** @typedef {import('../../src/log/log-line.js').LogLine} LogLine */
/** @typedef {import('../../src/log/log-summary.js').LogSummary} LogSummary */
/** @typedef {Infer<typeof import('../../src/routes/logs.js').logsAnswer>} LogsAnswer */
/** @typedef {Infer<typeof import('../../src/routes/logs.js').contextAnswer>} LogContextAnswer */
/** @typedef {Infer<typeof import('../../src/routes/logs.js').boostAnswer>} BoostAnswer */

// Alerts.
/** @typedef {import('../../src/alerts/answers.js').ActiveAlert} ActiveAlert */
/** @typedef {import('../../src/alerts/why.js').Why} Why */
/** @typedef {import('../../src/alerts/why.js').WhyItem} WhyItem */
/** @typedef {Infer<typeof import('../../src/alerts/rule-schema.js').ruleAnswerSchema>} RuleAnswer */
/** @typedef {import('../../src/alerts/rule-schema.js').Condition} Condition */
/** @typedef {import('../../src/alerts/explain.js').RuleExplanation} RuleExplanation */
/** @typedef {Infer<typeof import('../../src/alerts/answers.js').presetAnswerSchema>} PresetAnswer */
/** @typedef {Infer<typeof import('../../src/alerts/answers.js').channelTestSchema>} ChannelTestAnswer */
/** @typedef {import('../../src/alerts/silence.js').Silence} Silence */
/** @typedef {import('../../src/alerts/history.js').HistoryEntry} HistoryEntry */
/**
 * What the API shows of a channel, by kind: src/alerts/notifiers/registry.ts's channelViewSchema
 * (the console, then each kind's name, type and `shown` fields), one member per kind it lists.
 * @typedef {ConsoleChannelView | WebhookChannelView | EmailChannelView | AlertmanagerChannelView} ChannelView
 */
/** @typedef {Extract<Infer<typeof import('../../src/alerts/notifiers/registry.js').channelViewSchema>, { type: 'console' }>} ConsoleChannelView */
/** @typedef {{ name: string, type: 'webhook' } & Infer<typeof import('../../src/alerts/notifiers/webhook.js').webhookShown>} WebhookChannelView */
/** @typedef {{ name: string, type: 'email' } & Infer<typeof import('../../src/alerts/notifiers/email.js').emailShown>} EmailChannelView */
/** @typedef {{ name: string, type: 'alertmanager' } & Infer<typeof import('../../src/alerts/notifiers/alertmanager.js').alertmanagerShown>} AlertmanagerChannelView */
/** @typedef {{ channels: ChannelView[] }} ChannelList */
/** @typedef {import('../../src/alerts/notifier.js').Notification} Notification */
/** @typedef {import('../../src/alerts/notifier.js').AlertPayload} AlertPayload */
/**
 * An acknowledgement or a dismissed per-request notice, as the stream's `alert` topic says it.
 * @typedef {Parameters<import('../../src/alerts/manager.js').AlertManagerOptions['broadcastAck']>[0] & { ack: true }} AckNews
 */

// The model pages.
/** @typedef {import('../../src/routes/gui.js').GuiAnswer} GuiAnswer */
/** @typedef {import('../../src/routes/ocr.js').OcrAnswer} OcrAnswer */
/** @typedef {import('../../src/routes/video-schema.js').VideoAnswer} VideoAnswer */

/** @typedef {import('../../src/stream-hub.js').TopicData} TopicData */
/**
 * The stream's messages: a topic's data as the server broadcasts it (src/stream-hub.ts's
 * TopicData, the type `broadcast` takes), or the hub's own answers, which carry no data.
 * @typedef {{ [T in keyof TopicData]: { type: T, data: TopicData[T] } }[keyof TopicData]
 *   | { type: 'subscribed' | 'pong' | 'error', data?: undefined }} StreamMessage
 */

/** @typedef {import('../../src/errors.js').ErrorBody} ErrorBody */

export {};
