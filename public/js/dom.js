// DOM building without innerHTML: every text is set with textContent, so nothing a
// user, a model or a log line contains ever becomes markup.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined && c !== false)
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// Number formats by language and decimals, made once (toLocaleString with options makes
// one per call). The language is the page's (<html lang>, set by the toggle), not the browser's.
const FORMATS = {};
export const fmtNumber = (v, digits) => {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  // Whole numbers (NVML's percentages, counts) print without decimals.
  const d = digits ?? (Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  // (No document where Node loads the formatters in the tests: English there.)
  const lang = globalThis.document?.documentElement.lang || 'en';
  const key = `${lang}|${d}`;
  FORMATS[key] ??= new Intl.NumberFormat(lang, { minimumFractionDigits: d, maximumFractionDigits: d });
  return FORMATS[key].format(v);
};
