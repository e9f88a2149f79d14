// The WebUI: tabs, language, and the Monitor's wiring (login, cards, stream, log,
// popups, settings, model metrics).
import { api, connectStream } from './api.js';
import { fmtTime, setServerNow } from './format.js';
import { applyStatic, learnPresets, onLangChange, t, toggleLang } from './i18n.js';
import { Cards } from './monitor/cards.js';
import { loadCatalogue } from './monitor/catalogue.js';
import { HostStrip } from './monitor/host.js';
import { FiringList } from './monitor/firing.js';
import { LogPanel } from './monitor/log.js';
import { ModelTab } from './monitor/model.js';
import { Popups } from './monitor/popups.js';
import { Settings } from './monitor/settings.js';
import { chatPage } from './pages/chat.js';
import { guiPage } from './pages/gui.js';
import { ocrPage } from './pages/ocr.js';
import { videoPage } from './pages/video.js';

const $ = (id) => document.getElementById(id);
const pages = { chat: chatPage, gui: guiPage, ocr: ocrPage, video: videoPage };

function showTab() {
  const tab = (location.hash.slice(1) || 'chat').split('?')[0];
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.tab === tab);
  document.querySelectorAll('.page').forEach((p) => {
    p.hidden = p.id !== `page-${tab}`;
  });
  if (tab === 'monitor') void startMonitor();
}

let monitorStarted = false;
let cards;
let host;
let log;
let model;
let settings;
let popups;
let firing;
let lastSnapshot;

async function startMonitor() {
  if (monitorStarted) return;
  let snapshot;
  let catalogue;
  try {
    // The catalogue: the metrics and every list the Monitor's pickers offer, asked once;
    // the presets, so that a preset's rule reads in the page's language.
    let presets;
    [snapshot, catalogue, presets] = await Promise.all([
      api('/api/monitor/snapshot'),
      loadCatalogue(),
      api('/api/monitor/alerts/presets'),
    ]);
    learnPresets(presets.presets);
  } catch (err) {
    if (err.status === 401) {
      $('login').hidden = false;
      return;
    }
    // MONITOR_ENABLED=false: say so instead of an empty page.
    $('login-error').textContent = err.status === 404 ? t('monitor.off') : err.message;
    $('login').hidden = err.status === 404;
    if (err.status === 404)
      $('page-monitor').prepend(
        Object.assign(document.createElement('p'), { className: 'muted', textContent: t('monitor.off') }),
      );
    return;
  }
  monitorStarted = true;
  $('login').hidden = true;
  $('monitor-body').hidden = false;
  cards = new Cards($('cards'), $('side-panel'));
  host = new HostStrip($('host-strip'), $('side-panel'));
  log = new LogPanel($('log-panel'), catalogue.log);
  model = new ModelTab($('sub-model'), $('side-panel'), catalogue);
  settings = new Settings($('settings'), catalogue);
  // A "why" line about a log event shows its lines in the log below.
  const searchLog = (q) => {
    log.setSearch(q);
    $('log-panel').scrollIntoView({ block: 'start' });
  };
  firing = new FiringList(
    $('firing'),
    document.querySelector('#tabs [data-tab="monitor"]'),
    catalogue.metrics,
    searchLog,
  );
  popups = new Popups(
    $('popups'),
    (data) => (data.ack ? firing.acknowledged(data) : firing.refresh()),
    (metric) => firing.units.get(metric),
    searchLog,
  );
  setServerNow(snapshot.at);
  cards.render(snapshot);
  host.render(snapshot);
  lastSnapshot = snapshot;
  // Alerts that fired before this tab opened are listed at once.
  await Promise.all([log.load(), firing.load().catch(() => {})]);
  connectStream((type, data) => {
    if (type === 'snapshot') {
      lastSnapshot = data;
      setServerNow(data.at);
      cards.render(data);
      host.render(data);
      firing.onSnapshot();
      setStatus(true);
      if (!$('sub-model').hidden) void model.render();
    } else if (type === 'log') log.add(data);
    else if (type === 'alert') popups.handle(data);
  }, setStatus);
}

/** "live · 15:04:50" (实时 · 15:04:50): the time of the last check, in the page's one time format. */
function setStatus(connected) {
  const s = $('stream-status');
  if (!s) return;
  s.textContent = connected
    ? `${t('live')}${lastSnapshot ? ` · ${fmtTime(lastSnapshot.at)}` : ''}${lastSnapshot?.simulated ? ` · ${t('simulated')}` : ''}`
    : t('offline');
}

function init() {
  applyStatic();
  for (const [name, render] of Object.entries(pages)) render($(`page-${name}`));
  $('lang').addEventListener('click', toggleLang);
  onLangChange(() => {
    for (const [name, render] of Object.entries(pages)) render($(`page-${name}`));
    cards?.rerender();
    host?.rerender();
    firing?.render();
    popups?.relabel();
    // An open chart was titled in the other language: it closes, to be opened again in this one.
    $('side-panel').hidden = true;
    model?.relabel();
    log?.relabel();
    if (settings && !$('settings').hidden) void settings.render();
    setStatus(true);
  });
  for (const b of document.querySelectorAll('.subtabs [data-sub]')) {
    b.addEventListener('click', () => {
      for (const x of document.querySelectorAll('.subtabs [data-sub]')) x.classList.toggle('active', x === b);
      $('sub-overview').hidden = b.dataset.sub !== 'overview';
      $('sub-model').hidden = b.dataset.sub !== 'model';
      if (b.dataset.sub === 'model') void model.render();
    });
  }
  $('open-settings').addEventListener('click', () => void settings.open());
  $('login').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/monitor/login', { body: { token: new FormData(e.target).get('token') } });
      await startMonitor();
    } catch (err) {
      $('login-error').textContent = err.message;
    }
  });
  window.addEventListener('hashchange', showTab);
  showTab();
}

init();
