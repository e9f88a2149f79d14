// OCR: an image → its text and the model's confidence.
import { api, messageOf } from '../api.js';
import { fmtNumber, h } from '../dom.js';
import { t } from '../i18n.js';
import { fileToDataUrl } from './files.js';

/** @param {HTMLElement} root */
export function ocrPage(root) {
  const file = h('input', { type: 'file', accept: 'image/*' });
  const out = h('div', { class: 'answer', id: 'ocr-answer' });
  const meta = h('p', { class: 'muted' });
  const form = h('form', {}, h('p', {}, file), h('button', { type: 'submit', text: t('ocr.run') }), meta, out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const image = file.files?.[0];
    if (!image) return;
    try {
      /** @type {import('../types.js').OcrAnswer} */
      const r = await api('/api/ocr', { body: { image: await fileToDataUrl(image) } });
      out.textContent = r.text;
      meta.textContent = `${t('ocr.confidence')}: ${r.confidence === null ? '—' : fmtNumber(r.confidence, 3)} · ${fmtNumber(r.durationMs, 0)} ms · ${r.imageHash}`;
    } catch (err) {
      out.textContent = messageOf(err);
    }
  });
  root.replaceChildren(form);
}
