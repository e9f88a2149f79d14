// The side panel and Settings open over the page, under the top bar (sticky). The bar wraps
// to two rows on a phone (and to however many its language needs), so the overlays' top is
// its measured height, not a fixed 44 px that covered its second row and cut the language
// button in half. Escape closes the one on top, as its Close button does, unless the key
// was meant for a field being typed in.
import { one } from './dom.js';

/** @param {HTMLElement} bar */
export function followTopbar(bar) {
  const set = () => document.documentElement.style.setProperty('--topbar-height', `${bar.offsetHeight}px`);
  set();
  new ResizeObserver(set).observe(bar);
}

/**
 * Overlays from the top down: the first one shown is closed by its `.close` button.
 * @param {HTMLElement[]} overlays
 */
export function closeOnEscape(overlays) {
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    const target = e.target;
    if (
      target instanceof HTMLInputElement ||
      target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement
    )
      return;
    const open = overlays.find((o) => !o.hidden);
    if (!open) return;
    e.preventDefault();
    one(open, 'button.close', HTMLButtonElement).click();
  });
}
