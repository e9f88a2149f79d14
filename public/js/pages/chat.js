// Chat: an image and a question, the answer streamed as it is generated.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { fileToDataUrl } from './files.js';

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
    const content = [{ type: 'text', text: prompt.value || 'Describe the image.' }];
    if (file.files[0]) content.unshift({ type: 'image_url', image_url: { url: await fileToDataUrl(file.files[0]) } });
    const res = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content }] }),
    });
    if (!res.ok) {
      answer.textContent = (await res.json()).error?.message ?? `HTTP ${res.status}`;
      return;
    }
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
        const parsed = JSON.parse(data);
        // The model server broke off: the stream ends with an error event instead of [DONE].
        if (parsed.error)
          answer.append(h('p', { class: 'error', text: parsed.error.message ?? String(parsed.error.code) }));
        const delta = parsed.choices?.[0]?.delta?.content;
        if (delta) answer.append(delta);
      }
    }
  });
  root.replaceChildren(form);
}
