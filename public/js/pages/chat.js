// Chat: an image and a question, the answer streamed as it is generated.
import { json, prop } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { REASONING_FIELDS } from '../shared/delta-fields.js';
import { fileToDataUrl } from './files.js';

/** @param {HTMLElement} root */
export function chatPage(root) {
  const file = h('input', { type: 'file', accept: 'image/*', name: 'image' });
  const prompt = h('textarea', { rows: 3, name: 'prompt' });
  const answer = h('div', { class: 'answer', id: 'chat-answer' });
  const form = h(
    'form',
    { id: 'chat-form' },
    h('p', {}, h('label', {}, `${t('chat.image')} `, file)),
    h('p', {}, h('label', {}, t('chat.prompt'), h('br'), prompt)),
    h('button', { type: 'submit', text: t('chat.send') }),
    answer,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    answer.textContent = '';
    /** A thinking model's reasoning, folded above the answer; made when the first of it comes. */
    let thinking = /** @type {HTMLElement | null} */ (null);
    /** @type {import('../../../src/routes/chat-schema.js').ChatRequest['messages'][number]['content']} */
    const content = [{ type: 'text', text: prompt.value || 'Describe the image.' }];
    const image = file.files?.[0];
    if (image) content.unshift({ type: 'image_url', image_url: { url: await fileToDataUrl(image) } });
    const res = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content }] }),
    });
    if (!res.ok) {
      /** @type {import('../types.js').ErrorBody} */
      const refused = await json(res);
      answer.textContent = refused.error?.message ?? `HTTP ${res.status}`;
      return;
    }
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      raw += decoder.decode(value, { stream: true });
      // Lines may end in CRLF, LF or CR; a CR at the end may be half of a CRLF still coming.
      const keep = raw.endsWith('\r') ? 1 : 0;
      buf += raw.slice(0, raw.length - keep).replace(/\r\n?/g, '\n');
      raw = raw.slice(raw.length - keep);
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = event
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('');
        if (!data || data === '[DONE]') continue;
        // The model server's chunk (OpenAI's form), read as far as it goes.
        /** @type {unknown} */
        const parsed = JSON.parse(data);
        const error = prop(parsed, 'error');
        // The model server broke off: the stream ends with an error event instead of [DONE].
        if (error)
          answer.append(
            h('p', { class: 'error', text: String(prop(error, 'message') ?? String(prop(error, 'code'))) }),
          );
        const d = prop(prop(prop(parsed, 'choices'), 0), 'delta');
        // The reasoning under whichever name the engine gives it (delta-fields.ts, as the relay reads it).
        const thought = REASONING_FIELDS.map((f) => prop(d, f)).find((x) => x);
        if (thought) {
          if (!thinking) {
            thinking = h('div', { class: 'thinking-text' });
            answer.append(
              h('details', { class: 'thinking', open: true }, h('summary', { text: t('chat.thinking') }), thinking),
            );
          }
          thinking.append(String(thought));
        }
        const delta = prop(d, 'content');
        if (delta) answer.append(delta instanceof Node ? delta : String(delta));
      }
    }
  });
  root.replaceChildren(form);
}
