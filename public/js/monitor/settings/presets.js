// Settings → Presets: ready-made rules, each imported with one click (the server keeps
// one copy however often it is clicked); a refused import is said under the preset.
import { api } from '../../api.js';
import { h } from '../../dom.js';
import { t } from '../../i18n.js';
import { act, failuresIn } from './feedback.js';

/** A preset's own text in the page's language, or the server's English one. */
const presetText = (p, part, english) => {
  const key = `preset.${p.id}.${part}`;
  return t(key) === key ? english : t(key);
};

export function presetsPanel({ presets, onChange }) {
  return h(
    'ul',
    { class: 'preset-list' },
    ...presets.map((p) => {
      const li = h(
        'li',
        { dataset: { preset: p.id } },
        h(
          'div',
          {},
          h('strong', { text: presetText(p, 'name', p.rule.name) }),
          h('div', { class: 'muted small', text: presetText(p, 'desc', p.description) }),
        ),
      );
      const slot = failuresIn(li);
      li.append(
        p.imported
          ? h('span', { class: 'muted', text: t('presets.imported') })
          : h('button', {
              type: 'button',
              class: 'import',
              text: t('presets.import'),
              onclick: async (e) => {
                if (
                  await act(e.currentTarget, slot, 'importPreset', () =>
                    api(`/api/monitor/alerts/presets/${encodeURIComponent(p.id)}/import`, { body: {} }),
                  )
                )
                  await onChange();
              },
            }),
      );
      return li;
    }),
  );
}
