// The documents point only at what exists: every relative link of README, CONTRIBUTING and
// docs/ names a file of the repository, a `#heading` names a heading of its page (as GitHub
// makes its anchors), and every `docs/….md` a document mentions is there. The README stays
// the operator's first page: at most 450 lines.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(page: string): Set<string> {
  const text = readFileSync(join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

/** [text](target) links outside code, and `docs/X.md` mentions. */
function references(page: string): Array<{ target: string; kind: 'link' | 'mention' }> {
  const text = readFileSync(join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  const links = [...text.replace(/`[^`\n]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({
    target: m[1]!,
    kind: 'link' as const,
  }));
  const mentions = [...text.matchAll(/\bdocs\/[A-Z][A-Z0-9-]*\.md\b/g)].map((m) => ({
    target: m[0],
    kind: 'mention' as const,
  }));
  return [...links, ...mentions];
}

describe('the documents', () => {
  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const { target, kind } of references(page)) {
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#');
        // A mention names a path from the repository's root; a link, from its page.
        const file = kind === 'mention' ? target : path ? relative(ROOT, join(ROOT, dirname(page), path)) : page;
        if (!existsSync(join(ROOT, file))) broken.push(`${page}: ${target} (no ${file})`);
        else if (anchor && file.endsWith('.md') && !anchors(file).has(anchor))
          broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('keep the README to set-up, what the Monitor shows and configuration: at most 450 lines', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(450);
  });
});
