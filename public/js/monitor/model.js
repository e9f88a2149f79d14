// The Model Metrics sub-tab: the model layer per module, with a module filter.
import { api } from '../api.js';
import { fmtNumber, h } from '../dom.js';
import { t } from '../i18n.js';

const MODULES = ['vlm', 'gui', 'ocr', 'video'];
const STAGES = ['preprocess', 'inference', 'postprocess', 'total'];

async function latest(metric, labels = '') {
  const d = await api(`/api/monitor/series?metric=${metric}&labels=${encodeURIComponent(labels)}&window=5m`);
  return d.series[0]?.points.at(-1)?.[1] ?? null;
}

export class ModelTab {
  constructor(root) {
    this.root = root;
    this.module = '';
  }

  async render() {
    const modules = this.module ? [this.module] : MODULES;
    const stageRows = await Promise.all(modules.map(async (m) => [m, ...(await Promise.all(STAGES.map((s) => latest('inference_duration_ms', `module=${m},stage=${s}`))))]));
    const tokenRows = await Promise.all(modules.map(async (m) => [m, await latest('input_token_count', `module=${m}`)]));
    const [guiRate, guiDur, ocrConf, ocrErr, ocrPre, fps, engine, clients] = await Promise.all([
      latest('gui_step_success_rate'), latest('gui_step_avg_duration'), latest('ocr_confidence_mean'), latest('ocr_error_count'),
      latest('ocr_preproc_failure_rate'), latest('video_frames_per_second'), api('/api/monitor/engine'), api('/api/monitor/clients?window=5m'),
    ]);
    const filter = h('select', { 'aria-label': t('model.module'), onchange: (e) => { this.module = e.target.value; void this.render(); } },
      h('option', { value: '', text: t('log.all') }), ...MODULES.map((m) => h('option', { value: m, text: m, selected: m === this.module })));
    const table = (head, rows) => h('table', {}, h('tr', {}, ...head.map((x) => h('th', { text: x }))), ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', { text: typeof c === 'number' ? fmtNumber(c) : c ?? '—' })))));
    this.root.replaceChildren(
      h('div', { class: 'form-row' }, h('label', {}, t('model.module'), filter)),
      h('div', { class: 'model-grid' },
        h('div', { class: 'box' }, h('h4', { text: t('model.stages') }), table(['', ...STAGES], stageRows)),
        h('div', { class: 'box' }, h('h4', { text: t('model.tokens') }), table(['', 'tokens'], tokenRows)),
        (!this.module || this.module === 'gui') && h('div', { class: 'box' }, h('h4', { text: t('model.gui') }), table(['success %', 'avg ms'], [[guiRate, guiDur]])),
        (!this.module || this.module === 'ocr') && h('div', { class: 'box' }, h('h4', { text: t('model.ocr') }), table(['confidence', 'errors/min', 'preproc fail %'], [[ocrConf, ocrErr, ocrPre]])),
        (!this.module || this.module === 'video') && h('div', { class: 'box' }, h('h4', { text: t('model.video') }), table(['frames/s'], [[fps]])),
        h('div', { class: 'box' }, h('h4', { text: t('model.engine') }), engine.available
          ? table(['running', 'waiting', 'KV %', 'prefix hit %'], [[engine.requestsRunning, engine.requestsWaiting, engine.kvCacheUsagePercent, engine.prefixCacheHitRatePercent]])
          : h('p', { class: 'muted', text: engine.reason ?? '—' })),
        h('div', { class: 'box' }, h('h4', { text: t('model.clients') }), table(['client', 'GPU-s', 'requests', 'errors'], clients.byGpuSeconds.map((c) => [c.client, c.gpuSeconds, c.requests, c.errors]))),
      ),
    );
  }
}
