import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README and docs/ are in the package (package.json "files"): a relative link in them must
// land on a file that ships with it, or a reader of node_modules/tlob follows it into nothing.
const root = fileURLToPath(new URL('..', import.meta.url));
const shipped: string[] = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files;

function isShipped(path: string): boolean {
  if (shipped.some((p) => p.startsWith('!') && (path === p.slice(1) || path.startsWith(`${p.slice(1)}/`))))
    return false;
  return shipped.some((p) => path === p || path.startsWith(`${p}/`));
}

function links(file: string): string[] {
  // code blocks hold program text, not links
  const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => (m[1] as string).split('#')[0] as string);
}

describe('links of the README and docs/', () => {
  const pages = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];

  it.each(pages)('%s links only to files that exist and ship in the package', (page) => {
    const broken: string[] = [];
    for (const target of links(page)) {
      if (target === '' || /^[a-z]+:/.test(target)) continue; // an anchor of the page, or a URL
      const path = relative(root, join(dirname(join(root, page)), decodeURIComponent(target)));
      if (!existsSync(join(root, path))) broken.push(`${target}: no such file`);
      else if (!isShipped(path)) broken.push(`${target}: ${path} is not in the package ("files")`);
    }
    expect(broken).toEqual([]);
  });
});
