// A card's warning and critical lines in words ("warning ≥ 1.5 %", "critical > 5 % · rule
// “Model endpoints 5xx error rate”"), as the server resolved them: the enabled rule
// watching the metric, else the default. Shared by the Overview and Model Metrics cards,
// so both say the same number the same way.
import { fmtLine } from '../format.js';
import { ruleName, t } from '../i18n.js';

/** @type {Record<string, string>} */
const OP = { '>': '>', '>=': '≥', '<': '<', '<=': '≤' };

/**
 * One text per line that exists, warning first.
 * @param {import('../types.js').Lines | null | undefined} lines
 * @param {string} unit
 * @returns {string[]}
 */
export function linesText(lines, unit) {
  if (!lines) return [];
  const out = [];
  for (const level of ['warn', 'crit']) {
    const l = level === 'warn' ? lines.warn : lines.crit;
    if (!l) continue;
    const text = t(`lines.${level}`, { op: OP[l.op] ?? l.op, v: fmtLine(l.value, unit) });
    out.push(l.rule ? `${text} · ${t('lines.rule', { name: ruleName(l.rule.id, l.rule.name) })}` : text);
  }
  return out;
}

/** How lines are chosen, for a hover title. */
export const linesTitle = () => t('lines.title');
