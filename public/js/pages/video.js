// Video: an MP4 and a question → the answer (the file is sent as the request body).
import { json } from '../api.js';
import { fmtNumber, h } from '../dom.js';
import { t } from '../i18n.js';

/** @param {HTMLElement} root */
export function videoPage(root) {
  const file = h('input', { type: 'file', accept: 'video/mp4,video/quicktime' });
  const question = h('input', { type: 'text', placeholder: t('video.question') });
  const out = h('div', { class: 'answer' });
  const meta = h('p', { class: 'muted' });
  const form = h(
    'form',
    {},
    h('p', {}, h('label', {}, `${t('video.file')} `, file)),
    h('p', {}, question),
    h('button', { type: 'submit', text: t('video.ask') }),
    meta,
    out,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const video = file.files?.[0];
    if (!video) return;
    const res = await fetch(
      `/api/video?question=${encodeURIComponent(question.value || 'What happens in this video?')}`,
      { method: 'POST', headers: { 'content-type': video.type || 'video/mp4' }, body: video },
    );
    /** @type {import('../types.js').VideoAnswer & Partial<import('../types.js').ErrorBody>} its answer, or why not */
    const r = await json(res);
    if (!res.ok) {
      out.textContent = r.error?.message ?? `HTTP ${res.status}`;
      return;
    }
    out.textContent = r.answer;
    meta.textContent = `${r.frames} frames · ${fmtNumber(r.framesPerSecond)} frames/s · ${fmtNumber(r.durationMs, 0)} ms`;
  });
  root.replaceChildren(form);
}
