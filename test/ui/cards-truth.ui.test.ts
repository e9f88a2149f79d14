// One truth on the Monitor's screen, read off the cards in real Chromium during the demo's
// SECOND incident loop (its normal then holds an earlier incident), at 1280×800 and
// 390×844, in English and 中文: no card's arrow points towards "better" while the card is
// worse than ok, "vs normal" never equals the value with a change beside it, every enabled
// rule's threshold is on the cards of its metric with its name, and the stage means add up.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fakeNvml } from '../fake-nvml/build.js';
import { postJson, steppedClock } from '../helpers.js';
import { openPage, uiFixture } from './browser.js';
import { IncidentReplay } from './incident-replay.js';
import { clippedInside } from './layout-check.js';

type FmtValue = (v: number, unit: string) => string;
const { fmtValue } = (await import(new URL('../../public/js/format.js', import.meta.url).href)) as {
  fmtValue: FmtValue;
};

const ARTIFACTS = 'test-artifacts/cards-truth';
mkdirSync(ARTIFACTS, { recursive: true });
const nvml = fakeNvml('current');
nvml.reset(2);
const minute = 60_000;
// The replay ends at its 14th minute: before the wall clock the browser reads.
const startedAt = Math.floor((Date.now() - 16 * minute) / minute) * minute;
const clock = steppedClock(startedAt);
const ui = uiFixture({ env: { NVML_LIBRARY: nvml.path }, appOptions: { clock } });

/** The presets the demo imports with --incident (src/demo/main.ts). */
const INCIDENT_PRESETS = ['p95-latency', 'ocr-degradation', 'ocr-preprocessing', 'error-rate'];

interface Seen {
  where: string;
  metric: string;
  status: string;
  number: string;
  trend: string;
  normal: string | null;
  lines: string[];
  /** The latency card's P95, as printed. */
  p95?: string;
}

/** What each card of the overview and of Model Metrics shows. */
async function readCards(page: Page): Promise<Seen[]> {
  const overview = await page.$$eval('#sub-overview .card[data-card]', (cards) =>
    cards.map((c) => ({
      where: `overview ${(c as HTMLElement).dataset.card}`,
      metric: (c as HTMLElement).dataset.card!,
      status: ['ok', 'warn', 'crit', 'unavailable'].find((s) => c.classList.contains(s)) ?? '',
      number: c.querySelector('.number')!.textContent!,
      trend: c.querySelector('.trend')!.textContent!,
      // "against normal 1.10 s: …" / "对比正常值 1.10 s：…"
      normal:
        /(?:against normal|对比正常值) (.+?)[:：]/.exec((c.querySelector('.trend') as HTMLElement).title)?.[1] ?? null,
      lines: [...c.querySelectorAll('.lines span')].map((s) => s.textContent!),
      p95: /P95 (\S+ m?s)/.exec(c.querySelector('.facts')!.textContent!)?.[1],
    })),
  );
  await page.click('[data-sub="model"]');
  await page.waitForSelector('.model-card[data-metric="ocr_confidence_mean"] .number');
  const model = await page.$$eval('.model-card', (cards) =>
    cards.map((c) => ({
      where: `model ${(c as HTMLElement).closest('section')!.dataset.module} ${(c as HTMLElement).dataset.metric}`,
      metric: (c as HTMLElement).dataset.metric!,
      status: c.classList.contains('stale')
        ? 'stale'
        : (['ok', 'warn', 'crit', 'unavailable'].find((s) => c.classList.contains(s)) ?? ''),
      number: c.querySelector('.number')!.textContent!,
      trend: c.querySelector('.trend')!.textContent!,
      // "normal 700 ms" / "正常 700 ms"
      normal: /^(?:normal|正常) (.+)$/.exec(c.querySelector('.facts .normal')?.textContent ?? '')?.[1] ?? null,
      lines: [...c.querySelectorAll('.lines span')].map((s) => s.textContent!),
    })),
  );
  return [...overview, ...model];
}

const api = async (path: string) => (await fetch(`${ui.app.baseUrl}${path}`)).json() as Promise<any>;

/** Each card's direction of "worse", and the figure its change is of, from the same answers the page drew. */
async function directions(): Promise<Map<string, 'above' | 'below'>> {
  const out = new Map<string, 'above' | 'below'>();
  for (const c of (await api('/api/monitor/snapshot')).cards) {
    const lines = c.statusBy ? c.statusBy.lines : c.lines;
    if (lines) out.set(`overview ${c.id}`, lines.direction);
  }
  for (const m of (await api('/api/monitor/model')).modules)
    for (const c of m.cards) if (c.lines) out.set(`model ${m.module} ${c.metric}`, c.lines.direction);
  return out;
}

/** Every line a rule sets, as its cards must print it: "warning < 0.60", and its rule. */
async function ruleLines(): Promise<Array<{ metric: string; text: string; ruleId: string; name: string }>> {
  const catalogue = await api('/api/monitor/catalogue');
  const unit = (m: string) => catalogue.metrics.find((x: any) => x.name === m).unit as string;
  const op = { '>': '>', '>=': '≥', '<': '<', '<=': '≤' } as Record<string, string>;
  const out = [];
  for (const r of (await api('/api/monitor/alerts/rules')).rules) {
    if (!r.enabled || r.perRequest || !['warning', 'critical'].includes(r.severity)) continue;
    for (const c of r.and ? [r, r.and] : [r])
      out.push({
        metric: c.metric,
        text: `${op[c.op]} ${fmtValue(c.threshold, unit(c.metric))}`,
        ruleId: r.id,
        name: r.name,
      });
  }
  return out;
}

/** A value as printed ("4.35 s", "1.10 s", "850 ms") in ms. */
function ms(text: string): number {
  const m = /([\d.,]+)\s*(ms|s|min)/.exec(text)!;
  const n = Number(m[1]!.replaceAll(',', ''));
  return m[2] === 'min' ? n * 60_000 : m[2] === 's' ? n * 1_000 : n;
}

describe('the cards during the demo’s second incident loop', () => {
  it('never contradict their colour, their numbers or their rules', { timeout: 300_000 }, async () => {
    for (const id of INCIDENT_PRESETS)
      expect((await postJson(`${ui.app.baseUrl}/api/monitor/alerts/presets/${id}/import`, {})).status).toBe(200);
    const replay = new IncidentReplay(ui.app.monitor!, nvml, clock, startedAt);
    const report: string[] = [];
    // The demo's calm is calm by the cards' own lines: before the first incident no card is coloured.
    await replay.until(3.9);
    expect(replay.phaseAt(clock())).toBe('normal');
    const calm = [
      ...(await api('/api/monitor/snapshot')).cards.map((c: any) => `${c.id} ${c.status}`),
      ...(await api('/api/monitor/model')).modules.flatMap((m: any) =>
        m.cards.map((c: any) => `${m.module} ${c.metric} ${c.status}`),
      ),
    ];
    expect(calm.filter((c) => / (warn|crit)$/.test(c))).toEqual([]);
    // Two minutes into the first incident its figures already have a calm normal to move from.
    await replay.until(6);
    const ocr = (await api('/api/monitor/model')).modules.find((m: any) => m.module === 'ocr');
    const confidence = ocr.cards.find((c: any) => c.metric === 'ocr_confidence_mean');
    expect(confidence).toMatchObject({ noCalmBaseline: false, trend: 'down' });
    // 12:00, 13:00 and 13:50: one, two and almost three minutes into the second incident.
    // Every language and size is read at 13:50; the two earlier moments take two of them
    // each, in turn (a page load is a second of both cores: twelve were 20 s of the suite).
    const views = [
      ['en-US', { width: 1280, height: 800 }],
      ['zh-CN', { width: 390, height: 844 }],
      ['zh-CN', { width: 1280, height: 800 }],
      ['en-US', { width: 390, height: 844 }],
    ] as const;
    for (const [at, seenAt] of [
      [12, views.slice(0, 2)],
      [13, views.slice(2)],
      [13 + 5 / 6, views],
    ] as const) {
      await replay.until(at);
      expect(replay.phaseAt(clock())).toBe('incident');
      const dirs = await directions();
      const rules = await ruleLines();
      expect(rules.map((r) => r.metric).sort()).toEqual([
        'error_rate_5xx_percent',
        'latency_ms_p95',
        'ocr_confidence_mean',
        'ocr_error_count',
        'ocr_preproc_failure_rate',
      ]);
      for (const [lang, viewport] of seenAt) {
        const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, viewport);
        await page.waitForSelector('[data-card="latency"] .number:text-matches("\\\\d")');
        const tag = `${at.toFixed(1)}min-${viewport.width}-${lang.slice(0, 2)}`;
        await page.screenshot({ path: `${ARTIFACTS}/overview-${tag}.png` });
        expect(await clippedInside(page)).toEqual([]);
        const seen = await readCards(page);
        await page.selectOption('#sub-model .module-filter', 'ocr');
        await page.screenshot({ path: `${ARTIFACTS}/model-${tag}.png`, fullPage: true });
        expect(await clippedInside(page, '.model-card')).toEqual([]);
        const zh = lang === 'zh-CN';

        for (const c of seen) {
          // No arrow towards "better" on a card worse than ok.
          const dir = dirs.get(c.where);
          if ((c.status === 'warn' || c.status === 'crit') && dir)
            expect(c.trend, `${c.where} ${c.status} ${c.number} ${c.trend}`).not.toContain(dir === 'above' ? '↓' : '↑');
          // "vs normal" never equals the value with a change beside it (the P95's, when the change is P95's).
          const value = c.trend.startsWith('P95 ') ? c.p95 : c.number;
          if (c.normal !== null && c.normal === value)
            expect(c.trend, `${c.where}: ${c.number} vs normal ${c.normal}`).not.toMatch(/[↑↓]|\d\s*%/);
        }
        // The first incident (alerted) did not become the normal: OCR took 1.1 s when calm, 5 s now.
        const ocrDuration = seen.find((c) => c.where === 'model ocr ocr_avg_duration')!;
        expect(ocrDuration.normal === null || ms(ocrDuration.normal) < 2_000, ocrDuration.normal ?? '').toBe(true);
        // Every enabled rule's line is on its cards, with its name (in the page's language).
        for (const r of rules) {
          const cards = seen.filter(
            (c) =>
              c.status !== 'unavailable' &&
              c.status !== 'stale' &&
              (c.metric === r.metric ||
                (c.where === 'overview latency' && r.metric === 'latency_ms_p95') ||
                (c.where === 'overview error_rate' && r.metric === 'error_rate_5xx_percent')),
          );
          expect(cards.length, r.metric).toBeGreaterThan(0);
          for (const c of cards) {
            const line = c.lines.find((l) => l.includes(r.text) && l.includes(zh ? '规则“' : 'rule “'));
            expect(line, `${c.where}: ${r.text} of ${r.name} in ${JSON.stringify(c.lines)}`).toBeDefined();
            if (!zh) expect(line).toContain(`rule “${r.name}”`);
            // 中文: a preset's name in Chinese, no English words beside units and ids.
            else expect(line!.replace(/\d[\d.,]*\s*(ms|s|min|%|\/min)?/g, '')).not.toMatch(/[a-z]{3,}/);
          }
        }
        // The stage means add up to the total shown, over a number of requests said.
        const stages = await page.$$eval('section.module[data-module="ocr"] .stage-legend span', (els) =>
          els.map((e) => e.textContent!),
        );
        const parts = stages.filter((s) => s !== '+' && !s.startsWith('='));
        const total = ms(stages.find((s) => s.startsWith('='))!);
        const sum = parts.reduce((a, s) => a + ms(s), 0);
        expect(Math.abs(sum - total), `${parts.join(' + ')} = ${total}`).toBeLessThanOrEqual(total * 0.01 + 10);
        expect(await page.textContent('section.module[data-module="ocr"] .stages')).toMatch(
          zh ? /同一批 \d+ 个请求/ : /over the same \d+ requests/,
        );
        if (viewport.width === 1280 && !zh)
          report.push(
            `${at.toFixed(2)} min: ${seen
              .filter((c) => c.where.startsWith('overview') || c.where.includes('ocr'))
              .map(
                (c) =>
                  `${c.where.split(' ').at(-1)} ${c.number} ${c.trend || '-'} [${c.status}]${c.normal ? ` normal ${c.normal}` : ''}`,
              )
              .join(' | ')}`,
          );
        expect(errors).toEqual([]);
        await page.context().close();
      }
    }
    process.stdout.write(`\n${report.join('\n')}\n`);
  });
});
