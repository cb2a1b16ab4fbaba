import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Copies a fixture app to a temporary directory laid out as an installed app would be:
 * `node_modules/tlob` links to this package (its built `dist/`), `node_modules/semver`,
 * `node_modules/date-fns`, `node_modules/eventemitter3`, `node_modules/reflect-metadata` and
 * `node_modules/import-in-the-middle` to the dev dependencies. TypeScript sources are kept as `*.fixture`
 * (so that the repository's own type-check leaves them alone) and get their names back here.
 * Returns the directory.
 */
export function installFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tlob-${name}-`));
  cpSync(join(root, 'test/fixtures/probes', name), dir, { recursive: true });
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.fixture')) renameSync(join(dir, file), join(dir, file.slice(0, -'.fixture'.length)));
  }
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/tlob'), 'dir');
  for (const dependency of [
    'semver',
    'date-fns',
    'eventemitter3',
    'reflect-metadata',
    'import-in-the-middle',
  ]) {
    symlinkSync(join(root, 'node_modules', dependency), join(dir, 'node_modules', dependency), 'dir');
  }
  return dir;
}

/** The `node` binaries to run child processes with: TLOB_TEST_NODE, else this process's. */
export function nodeBinary(): string {
  return process.env.TLOB_TEST_NODE ?? process.execPath;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the process could not be run or timed out. */
  readonly error?: Error;
}

/** Runs `node ...args` in `cwd` with extra environment variables. */
export function runNode(cwd: string, args: string[], env: Record<string, string> = {}): RunResult {
  const result = spawnSync(nodeBinary(), args, {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, error: result.error };
}
