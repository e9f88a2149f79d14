// What a person sees on the page, for the language and time checks: the visible text
// (and hover titles), the Latin words in it that are not allowed in 简体中文, and every
// time written on it. What may stay in Latin letters: metric and label names, units,
// codes, protocol and product names, and records (log lines, what users wrote).
import type { Page } from 'playwright-core';

/** Names that are the same in both languages. */
export const ALLOWED = new Set([
  'gpu',
  'ocr',
  'cpu',
  'io',
  'psi',
  'kv',
  'http',
  'https',
  'tls',
  'smtp',
  'url',
  'nvml',
  'mib',
  'gib',
  'min',
  'req',
  'ms',
  'websocket',
  'webhook',
  'info',
  'warn',
  'error',
  'qwen3',
  'webui',
  'english',
  'utc',
  'asia',
  'shanghai',
  'p50',
  'p95',
  'p99',
  'generic',
  'alertmanager',
  'dingtalk',
  'feishu',
  'wecom',
  'slack',
  'mp4',
  'bool',
  'vlm',
  'gui',
  'video',
  'alert',
  'image_hash',
  'api',
  'sha256',
  'json',
  'post',
  'get',
  'gpu_is_lost',
  'hooks',
  'example',
  'com',
  'tokens',
  'token',
  'frames',
  'connections',
  'requests',
  'errors',
  'preemptions',
  'tasks',
  'ratio',
  'chat',
  'nvidia',
  'endpoint',
  'module',
  'stage',
  // The OpenAI API's field names, as the metric help (in Chinese) names them.
  'logprobs',
  'usage',
]);

/**
 * Records, not the page's words: log lines and a line's values, metric names, code,
 * option lists and chart axes (drawn on a canvas).
 */
export const RECORDS = '.log-lines .log-line, .log-record, .metric-name, code, .condition, option, .u-axis';

/** Visible text nodes and the hover titles of visible elements, outside `skip`. */
export async function visibleText(
  page: Page,
  skip = RECORDS,
  titles = true,
): Promise<Array<{ text: string; title: boolean }>> {
  return page.evaluate(
    ({ skip, titles }) => {
      const out: Array<{ text: string; title: boolean }> = [];
      const shown = (el: Element) =>
        !el.closest('[hidden]') &&
        ((el as HTMLElement).offsetParent !== null || getComputedStyle(el).position === 'fixed');
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!el || el.closest(skip) || el.closest('script, style') || !shown(el)) continue;
        if (n.textContent?.trim()) out.push({ text: n.textContent, title: false });
      }
      if (titles)
        // A log value's key on hover (`image_hash`) is a record's word too.
        for (const el of document.querySelectorAll('[title]'))
          if (!el.closest(skip) && !el.matches('.log-key') && shown(el) && el.getAttribute('title'))
            out.push({ text: el.getAttribute('title')!, title: true });
      for (const i of document.querySelectorAll('input[placeholder]'))
        if ((i as HTMLElement).offsetParent !== null)
          out.push({ text: (i as HTMLInputElement).placeholder, title: false });
      return out;
    },
    { skip, titles },
  );
}

/**
 * Latin words on screen (and in hover titles) that are neither allowed nor a code, a
 * metric name or a record. `ids`: names the test itself gave (clients, rules).
 */
export async function englishWords(
  page: Page,
  skip = RECORDS,
  titles = true,
  ids: readonly string[] = [],
): Promise<string[]> {
  const found = new Set<string>();
  for (const { text } of await visibleText(page, skip, titles)) {
    // Labels (`method=GET`) and paths (`/api/monitor/alerts/rules`) are names.
    // A client named by its API key (`key:dafefaca`, a hash) is an id, even when its
    // hex digits happen to be letters only.
    const words = text
      .replace(/\S+=\S*/g, ' ')
      .replace(/(^|\s)\/\S*/g, ' ')
      .replace(/\bkey:[0-9a-f]{8}\b/g, ' ');
    for (const w of words.match(/[A-Za-z][A-Za-z0-9_.-]*/g) ?? []) {
      // Names, codes, units like 5m, host names and paths.
      if (
        w.includes('_') ||
        w.includes('.') ||
        /^[A-Z0-9_]+$/.test(w) ||
        /\d/.test(w) ||
        w.length < 3 ||
        text.includes(`/${w}/`)
      )
        continue;
      if (!ALLOWED.has(w.toLowerCase()) && !ids.includes(w)) found.add(w);
    }
  }
  return [...found];
}

/**
 * Every time of day written on the page, with the text it stands in: "15:03:31",
 * "3:03 PM", "2:59pm 12/6/26" and "12/6/2026, 3:04:09 PM" are all found. Records
 * (log lines) are included: their times are the page's too.
 */
export async function timesOnScreen(page: Page): Promise<Array<{ time: string; in: string }>> {
  const out: Array<{ time: string; in: string }> = [];
  const TIME =
    /(\d{1,4}\/\d{1,2}\/\d{1,4},?\s*)?\b\d{1,2}:\d{2}(:\d{2})?(\s?[AaPp]\.?[Mm]\.?)?(\s\d{1,4}\/\d{1,2}\/\d{1,4})?/g;
  for (const { text } of await visibleText(page, 'option, .u-axis')) {
    for (const m of text.matchAll(TIME)) out.push({ time: m[0], in: text.trim().slice(0, 120) });
  }
  return out;
}
