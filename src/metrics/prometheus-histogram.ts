// Histograms whose counts are kept outside prom-client (CumulativeHistogram, filled on
// the hot path without allocating), as metric objects in the shape prom-client's
// `getMetricsAsJSON()` returns: what AggregatorRegistry.aggregate turns into a Registry.
import type { CumulativeHistogram } from './service-stats.js';

/** One sample as prom-client's metric objects carry it (`getMetricsAsJSON()`'s shape). */
export interface SampleValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** A histogram whose counts are kept elsewhere, in `getMetricsAsJSON()`'s shape. */
export interface HistogramMetric {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: SampleValue[];
}

/** The samples of one cumulative histogram: buckets (cumulative), +Inf, sum and count. */
export function histogramSamples(name: string, h: CumulativeHistogram, labels: Record<string, string>): SampleValue[] {
  const out: SampleValue[] = [];
  let cumulative = 0;
  h.bounds.forEach((le, i) => {
    cumulative += h.counts[i] ?? 0;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

/** A histogram read at scrape time from the given cumulative histograms and their labels. */
export function histogramMetric(
  name: string,
  help: string,
  read: () => Iterable<[Record<string, string>, CumulativeHistogram]>,
): () => HistogramMetric {
  return () => {
    const values: SampleValue[] = [];
    // A labelled series appears with its first observation; one without labels is always
    // there (at 0), so rate() and increase() count the first observation too.
    for (const [labels, h] of read())
      if (h.count > 0 || Object.keys(labels).length === 0) values.push(...histogramSamples(name, h, labels));
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
}
