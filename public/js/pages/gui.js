// GUI: a screenshot and an instruction → the next action, drawn on the screenshot.
import { api, messageOf } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { fileToDataUrl } from './files.js';

/** @param {HTMLElement} root */
export function guiPage(root) {
  const file = h('input', { type: 'file', accept: 'image/*' });
  const instruction = h('input', { type: 'text', placeholder: t('gui.instruction') });
  const canvas = h('canvas', { id: 'gui-canvas', style: 'max-width:100%;border:1px solid #ccc' });
  const out = h('pre', { class: 'answer' });
  const form = h(
    'form',
    {},
    h('p', {}, file),
    h('p', {}, instruction),
    h('button', { type: 'submit', text: t('gui.run') }),
    out,
    canvas,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const image = file.files?.[0];
    if (!image) return;
    const url = await fileToDataUrl(image);
    try {
      /** @type {import('../types.js').GuiAnswer} */
      const r = await api('/api/gui/execute', {
        body: { screenshot: url, instruction: instruction.value || 'next step' },
      });
      out.textContent = JSON.stringify(r.success ? r.action : { reason: r.reason, detail: r.detail }, null, 1);
      const img = new Image();
      img.onload = () => {
        canvas.width = img.width;
        canvas.height = img.height;
        const c = canvas.getContext('2d');
        if (!c) return;
        c.drawImage(img, 0, 0);
        if (r.success && r.action.x !== undefined && r.action.y !== undefined) {
          c.strokeStyle = '#dc2626';
          c.lineWidth = Math.max(3, img.width / 300);
          c.beginPath();
          c.arc(r.action.x, r.action.y, Math.max(12, img.width / 60), 0, Math.PI * 2);
          c.stroke();
        }
      };
      img.src = url;
    } catch (err) {
      out.textContent = messageOf(err);
    }
  });
  root.replaceChildren(form);
}
