// Settings → Presets: ready-made rules, each imported with one click (the server keeps
// one copy however often it is clicked); a refused import is said under the preset. A
// preset imports with the channels that are set up: each says which of its channels are
// not (before and after import), and offers to import again once one has been set up.
import { api } from '../../api.js';
import { h } from '../../dom.js';
import { t } from '../../i18n.js';
import { channelLabel } from './channels.js';
import { act, failuresIn } from './feedback.js';

/** A preset's own text in the page's language, or the server's English one. */
/** @typedef {import('../../types.js').PresetAnswer} PresetAnswer */

/**
 * @param {PresetAnswer} p
 * @param {string} part
 * @param {string} english
 */
const presetText = (p, part, english) => {
  const key = `preset.${p.id}.${part}`;
  return t(key) === key ? english : t(key);
};

/** @param {string[]} list */
const names = (list) => list.map(channelLabel).join(', ');

/**
 * What the preset's channels mean now: left out because not set up, or set up since and not yet added.
 * @param {PresetAnswer} p
 */
function channelNote(p) {
  const notSetUp = p.channelsNotSetUp ?? [];
  const leftOut = p.channelsLeftOut ?? [];
  const addable = leftOut.filter((c) => !notSetUp.includes(c));
  const missing = leftOut.filter((c) => notSetUp.includes(c));
  const notes = [];
  if (!p.imported && notSetUp.length) notes.push(t('presets.without', { c: names(notSetUp) }));
  if (p.imported && missing.length) notes.push(t('presets.importedWithout', { c: names(missing) }));
  if (p.imported && addable.length) notes.push(t('presets.canAdd', { c: names(addable) }));
  return { text: notes.join(' '), addable: addable.length > 0 };
}

/** @param {{ presets: PresetAnswer[], onChange: () => Promise<unknown> }} lists */
export function presetsPanel({ presets, onChange }) {
  return h(
    'ul',
    { class: 'preset-list' },
    ...presets.map((p) => {
      const note = channelNote(p);
      const li = h(
        'li',
        { dataset: { preset: p.id } },
        h(
          'div',
          {},
          h('strong', { text: presetText(p, 'name', p.rule.name) }),
          h('div', { class: 'muted small', text: presetText(p, 'desc', p.description) }),
          note.text ? h('div', { class: 'small channel-note', role: 'status', text: note.text }) : null,
        ),
      );
      const slot = failuresIn(li);
      /** @param {string} label */
      const importButton = (label) =>
        h('button', {
          type: 'button',
          class: 'import',
          text: t(label),
          onclick: async (e) => {
            if (
              await act(e.currentTarget, slot, 'importPreset', () =>
                api(`/api/monitor/alerts/presets/${encodeURIComponent(p.id)}/import`, { body: {} }),
              )
            )
              await onChange();
          },
        });
      li.append(
        !p.imported
          ? importButton('presets.import')
          : note.addable
            ? importButton('presets.importAgain')
            : h('span', { class: 'muted', text: t('presets.imported') }),
      );
      return li;
    }),
  );
}
