// How Settings says that a request failed: next to what it concerns, in the page's
// language ("Could not delete the rule: …") with the server's own reason, or that the
// server did not answer. A button is disabled while its request runs, so a second click
// does not send it twice; nothing a button starts is left as an unhandled rejection.
import { ApiError, messageOf } from '../../api.js';
import { h } from '../../dom.js';
import { reasonText, t } from '../../i18n.js';

/** Why a request failed: the server's message, or that it did not answer. */
/** @param {unknown} err */
export const reasonOf = (err) => (err instanceof ApiError ? err.message : t('error.network'));

/**
 * "Could not {what}: {why}" for one of the `action.*` keys.
 * @param {string} action
 * @param {unknown} err
 */
export const failureText = (action, err) => t('action.failed', { what: t(`action.${action}`), why: reasonOf(err) });

/**
 * One place where failures appear. `place(el)` puts the message element where it belongs
 * and returns what to remove when the message goes (el itself, or a row around it).
 * @param {(el: HTMLElement) => Element | null | undefined} place
 * @returns {FailureSlot}
 */
export function failureSlot(place) {
  /** @type {Element | null} */
  let shown = null;
  /** @type {HTMLElement | null} */
  let el = null;
  return {
    show(action, err) {
      if (!el) {
        el = h('p', { class: 'action-error', role: 'alert' });
        shown = place(el) ?? el;
      }
      el.textContent = failureText(action, err);
    },
    clear() {
      shown?.remove();
      shown = null;
      el = null;
    },
  };
}

/**
 * @typedef {{ show(action: string, err: unknown): void, clear(): void }} FailureSlot
 */

/**
 * Failures shown as the last thing inside `container`.
 * @param {Element} container
 */
export const failuresIn = (container) =>
  failureSlot((el) => {
    container.append(el);
    return el;
  });

/**
 * Runs a button's request: the button is busy meanwhile; a failure is shown in `slot`.
 * Resolves true when it worked, false when it failed (the caller puts things back).
 * @param {HTMLButtonElement | HTMLInputElement} button
 * @param {FailureSlot} slot
 * @param {string} action
 * @param {() => Promise<unknown>} fn
 * @returns {Promise<boolean>}
 */
export async function act(button, slot, action, fn) {
  slot.clear();
  button.disabled = true;
  try {
    await fn();
    return true;
  } catch (err) {
    slot.show(action, err);
    return false;
  } finally {
    button.disabled = false;
  }
}

/**
 * A form's failure: at the field the server names (`urls[1]` shows at urls), else a
 * sentence saying what could not be done, at `fallback`.
 * @param {HTMLFormElement} form
 * @param {unknown} err
 * @param {string} action
 * @param {Element} [fallback]
 */
export function showFormError(form, err, action, fallback = form) {
  clearFormErrors(form);
  let field = null;
  let name = err instanceof ApiError ? err.field : undefined;
  while (name && !field) {
    field = form.querySelector(`[name="${CSS.escape(name)}"]`);
    const shorter = name.replace(/(\[\d+\]|\.[^.[]*)$/, '');
    name = shorter === name ? undefined : shorter;
  }
  const where = field?.closest('label, .field, fieldset');
  const exact = err instanceof ApiError && field?.getAttribute('name') === err.field;
  if (where) where.append(h('span', { class: 'field-error', role: 'alert', text: atField(err, exact) }));
  else fallback.append(h('p', { class: 'field-error action-error', role: 'alert', text: failureText(action, err) }));
}

/**
 * The reason shown at its field: a generic check in the page's language from its codes
 * ("必填"), else the server's words. Where the field is the very input (`exact`), its own
 * label names it, so the API's key is not put in front ("consecutiveChecks: …"); a part of
 * it (`labels.1cluster` at the Labels input) is still named.
 * @param {unknown} err
 * @param {boolean} exact
 */
function atField(err, exact) {
  if (!(err instanceof ApiError)) return messageOf(err);
  const prefix = `${err.field}: `;
  const words = err.reasonParts
    ? reasonText({ reasonParts: err.reasonParts })
    : err.message.startsWith(prefix)
      ? err.message.slice(prefix.length)
      : err.message;
  return exact || !err.field ? words : `${err.field}: ${words}`;
}

/** @param {HTMLFormElement} form */
export function clearFormErrors(form) {
  for (const x of form.querySelectorAll('.field-error')) x.remove();
}
