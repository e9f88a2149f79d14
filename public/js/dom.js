// DOM building without innerHTML: every text is set with textContent, so nothing a
// user, a model or a log line contains ever becomes markup.
import { formatNumber } from './shared/value-format.js';

/**
 * A child h() appends: a node, or text (a number or string); null, undefined and false are
 * left out, and an array's items are appended one by one.
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * What h() sets on the element it makes: `class`, `text` (its textContent), `dataset`,
 * `onclick`-style listeners (the event's currentTarget is the element), and any other
 * attribute (true: present and empty; null, undefined and false: left out).
 * @template {keyof HTMLElementTagNameMap} K
 * @typedef {{
 *   class?: string | null | false,
 *   text?: string | number | null,
 *   dataset?: Record<string, string>,
 * } & {
 *   [E in keyof HTMLElementEventMap as `on${E}`]?: (ev: HTMLElementEventMap[E] & { currentTarget: HTMLElementTagNameMap[K] }) => unknown
 * } & Record<string, unknown>} Props
 */

/**
 * An element with its properties and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props<K>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), listener(el, k, v));
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined && c !== false)
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/**
 * A props listener as addEventListener takes it (Props typed its event by its name), called
 * on the element as addEventListener would call it.
 * @param {HTMLElement} el
 * @param {string} name
 * @param {unknown} fn
 * @returns {EventListener}
 */
function listener(el, name, fn) {
  if (typeof fn !== 'function') throw new TypeError(`h(): ${name} is not a function`);
  return (ev) => {
    Reflect.apply(fn, el, [ev]);
  };
}

/**
 * The page's element with this id, of this kind; a page without it is a broken page, said
 * at once instead of as a TypeError where it is first used.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T }} type
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`The page has no ${type.name} #${id}`);
  return el;
}

/** The page's language (<html lang>, set by the toggle), not the browser's; English where Node loads the formatters in the tests. */
export const pageLang = () => globalThis.document?.documentElement.lang || 'en';

/**
 * A number in the page's language (src/value-format.ts: one formatter for the page and the server's messages).
 * @param {number | null | undefined} v
 * @param {number} [digits]
 * @returns {string}
 */
export const fmtNumber = (v, digits) => formatNumber(v, digits, pageLang());

/**
 * The first element under `root` that matches `selector`, of this kind; a page without it is
 * broken, said at once (as byId does).
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {{ new (): T }} type
 * @returns {T}
 */
export function one(root, selector, type) {
  const el = root.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`No ${type.name} ${selector} here`);
  return el;
}

/**
 * Every element under `root` that matches `selector` and is of this kind.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {{ new (): T }} type
 * @returns {T[]}
 */
export function all(root, selector, type) {
  /**
   * @param {Element} el
   * @returns {el is T}
   */
  const ofType = (el) => el instanceof type;
  return [...root.querySelectorAll(selector)].filter(ofType);
}
