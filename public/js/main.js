// The WebUI: tabs, language, and the Monitor's wiring (login, cards, stream, log,
// popups, settings, model metrics).
import { api, connectStream, messageOf, prop } from './api.js';
import { all, byId, one } from './dom.js';
import { fmtTime, setServerNow } from './format.js';
import { closeOnEscape, followTopbar } from './overlays.js';
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

/** @typedef {import('./types.js').Snapshot} Snapshot */

/** @param {string} id */
const $ = (id) => byId(id, HTMLElement);
const pages = { chat: chatPage, gui: guiPage, ocr: ocrPage, video: videoPage };

function showTab() {
  const tab = (location.hash.slice(1) || 'chat').split('?')[0];
  for (const a of all(document, '#tabs a', HTMLElement)) a.classList.toggle('active', a.dataset.tab === tab);
  all(document, '.page', HTMLElement).forEach((p) => {
    p.hidden = p.id !== `page-${tab}`;
  });
  if (tab === 'monitor') void startMonitor();
}

let monitorStarted = false;
/** @type {Cards | undefined} */
let cards;
/** @type {HostStrip | undefined} */
let host;
/** @type {LogPanel | undefined} */
let log;
/** @type {ModelTab | undefined} */
let model;
/** @type {Settings | undefined} */
let settings;
/** @type {Popups | undefined} */
let popups;
/** @type {FiringList | undefined} */
let firing;
/** @type {Snapshot | undefined} */
let lastSnapshot;

async function startMonitor() {
  if (monitorStarted) return;
  /** @type {Snapshot} */
  let snapshot;
  /** @type {import('./types.js').Catalogue} */
  let catalogue;
  try {
    // The catalogue: the metrics and every list the Monitor's pickers offer, asked once;
    // the presets, so that a preset's rule reads in the page's language.
    /** @type {Promise<Snapshot>} */
    const snapshotAsked = api('/api/monitor/snapshot');
    const catalogueAsked = loadCatalogue();
    /** @type {Promise<{ presets: import('./types.js').PresetAnswer[] }>} */
    const presetsAsked = api('/api/monitor/alerts/presets');
    let presets;
    [snapshot, catalogue, presets] = await Promise.all([snapshotAsked, catalogueAsked, presetsAsked]);
    learnPresets(presets.presets);
  } catch (err) {
    const status = prop(err, 'status');
    if (status === 401) {
      $('login').hidden = false;
      return;
    }
    // MONITOR_ENABLED=false: say so instead of an empty page.
    $('login-error').textContent = status === 404 ? t('monitor.off') : messageOf(err);
    $('login').hidden = status === 404;
    if (status === 404)
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
  const logPanel = log;
  /** @param {string} q */
  const searchLog = (q) => {
    logPanel.setSearch(q);
    $('log-panel').scrollIntoView({ block: 'start' });
  };
  const firingList = new FiringList(
    $('firing'),
    document.querySelector('#tabs [data-tab="monitor"]'),
    catalogue.metrics,
    searchLog,
  );
  firing = firingList;
  popups = new Popups(
    $('popups'),
    (data) => ('ack' in data ? firingList.acknowledged(data) : firingList.refresh()),
    (metric) => firingList.units.get(metric),
    searchLog,
  );
  const [cardsNow, hostNow, popupsNow, modelNow] = [cards, host, popups, model];
  setServerNow(snapshot.at);
  cards.render(snapshot);
  host.render(snapshot);
  lastSnapshot = snapshot;
  // Alerts that fired before this tab opened are listed at once.
  await Promise.all([logPanel.load(), firingList.load().catch(() => {})]);
  connectStream(({ type, data }) => {
    if (type === 'snapshot') {
      lastSnapshot = data;
      setServerNow(data.at);
      cardsNow.render(data);
      hostNow.render(data);
      firingList.onSnapshot();
      setStatus(true);
      if (!$('sub-model').hidden) void modelNow.render();
    } else if (type === 'log') logPanel.add(data);
    else if (type === 'alert') popupsNow.handle(data);
  }, setStatus);
}

/**
 * "live · 15:04:50" (实时 · 15:04:50): the time of the last check, in the page's one time format.
 * @param {boolean} connected
 */
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
  for (const b of all(document, '.subtabs [data-sub]', HTMLElement)) {
    b.addEventListener('click', () => {
      for (const x of document.querySelectorAll('.subtabs [data-sub]')) x.classList.toggle('active', x === b);
      $('sub-overview').hidden = b.dataset.sub !== 'overview';
      $('sub-model').hidden = b.dataset.sub !== 'model';
      if (b.dataset.sub === 'model') void model?.render();
    });
  }
  $('open-settings').addEventListener('click', () => void settings?.open());
  const login = byId('login', HTMLFormElement);
  login.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/monitor/login', { body: { token: new FormData(login).get('token') } });
      await startMonitor();
    } catch (err) {
      $('login-error').textContent = messageOf(err);
    }
  });
  window.addEventListener('hashchange', showTab);
  showTab();
  followTopbar(one(document, '.topbar', HTMLElement));
  // Settings opens over the side panel: Escape closes it first.
  closeOnEscape([$('settings'), $('side-panel')]);
}

init();
