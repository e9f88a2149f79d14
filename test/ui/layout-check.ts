// What "not clipped" means, checked in the page: every visible element of a card (or any
// element matched) lies inside its card, no text overflows its box, no word is broken
// into a column of single characters, and the page never scrolls sideways.
import type { Page } from 'playwright-core';

export interface LayoutProblem {
  what: string;
  text: string;
  detail: string;
}

/** Problems inside each element matching `containers` (default: cards and the host strip). */
export async function clippedInside(page: Page, containers = '.card, .host-item'): Promise<LayoutProblem[]> {
  return page.evaluate((sel) => {
    const out: Array<{ what: string; text: string; detail: string }> = [];
    const name = (el: Element) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`;
    for (const box of document.querySelectorAll(sel)) {
      if ((box as HTMLElement).offsetParent === null) continue; // hidden
      const b = box.getBoundingClientRect();
      const owner = (box as HTMLElement).dataset.card ?? (box as HTMLElement).dataset.host ?? name(box);
      if (box.scrollWidth > box.clientWidth + 1)
        out.push({
          what: owner,
          text: (box.textContent ?? '').slice(0, 80),
          detail: `content ${box.scrollWidth}px wider than ${box.clientWidth}px`,
        });
      for (const el of [box, ...box.querySelectorAll('*')]) {
        if (el.closest('.hover-chart') || el.closest('select')) continue; // charts float, options scroll in their list
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        const text = (el.textContent ?? '').trim();
        if (
          el !== box &&
          (r.left < b.left - 0.5 || r.right > b.right + 0.5 || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5)
        ) {
          out.push({
            what: `${owner} ${name(el)}`,
            text: text.slice(0, 80),
            detail: `outside its card (${Math.round(r.left)}–${Math.round(r.right)} in ${Math.round(b.left)}–${Math.round(b.right)})`,
          });
        }
        if (el !== box && el instanceof HTMLElement && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
          out.push({
            what: `${owner} ${name(el)}`,
            text: text.slice(0, 80),
            detail: `text ${el.scrollWidth}px in a ${el.clientWidth}px box`,
          });
        }
        // One character per line, or a short word (未触发, warning) broken over lines: count
        // the text's own line boxes, not the box's height (a table row can be taller).
        if (el.children.length === 0 && text.length >= 2) {
          const range = document.createRange();
          range.selectNodeContents(el);
          const rects = [...range.getClientRects()].filter((x) => x.width > 0);
          const lines = new Set(rects.map((x) => Math.round(x.top))).size;
          if (lines > 1 && text.length <= 12 && !/\s/.test(text))
            out.push({ what: `${owner} ${name(el)}`, text, detail: 'a short word broken over lines' });
          else if (lines >= 3 && lines >= text.length / 2)
            out.push({
              what: `${owner} ${name(el)}`,
              text: text.slice(0, 80),
              detail: 'wrapped one character per line',
            });
        }
      }
    }
    return out;
  }, containers);
}

/** Elements that stick out of the viewport on the right, i.e. a sideways scroll. */
export async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > vw + 1)
      out.push(`page is ${document.documentElement.scrollWidth}px wide in a ${vw}px viewport`);
    for (const el of document.querySelectorAll('body *')) {
      const h = el as HTMLElement;
      if (h.offsetParent === null && getComputedStyle(h).position !== 'fixed') continue;
      if (h.closest('.log-lines, .u-wrap, .scroll-x')) continue; // scrolls inside its own box
      const r = h.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 1)
        out.push(
          `${h.tagName.toLowerCase()}.${[...h.classList].join('.')} "${(h.textContent ?? '').trim().slice(0, 40)}" ends at ${Math.round(r.right)}px`,
        );
    }
    return out.slice(0, 20);
  });
}

/** How many cards sit in each row, top to bottom. */
export async function cardRows(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const rows = new Map<number, number>();
    for (const c of document.querySelectorAll('.card')) {
      const top = Math.round(c.getBoundingClientRect().top);
      rows.set(top, (rows.get(top) ?? 0) + 1);
    }
    return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
  });
}
