import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunData } from '../../src/report/run-data.js';
import { nodeBinary } from '../probes/preload-apps.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
/** The build under test: `dist/`, or another build's directory in `TLOB_TEST_DIST` (a tree others rebuild). */
export const dist = process.env.TLOB_TEST_DIST ?? join(root, 'dist');
export const cli = join(dist, 'cli.js');
export const fixtures = join(root, 'test/fixtures/cli');

/** Runs the built `tlob` command with `args` in `cwd` (the CLI fixtures by default). */
export function runTlob(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): SpawnSyncReturns<string> {
  return spawnSync(nodeBinary(), [cli, ...args], {
    cwd: options.cwd ?? fixtures,
    env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** Starts the built `tlob` command without waiting for it. */
export function startTlob(args: string[], env: Record<string, string> = {}) {
  return spawn(nodeBinary(), [cli, ...args], {
    cwd: fixtures,
    env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A fresh temporary directory. */
export const scratch = () => mkdtempSync(join(tmpdir(), 'tlob-cli-test-'));

export const readRun = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as RunData;

/** The count of finished windows of `name` in merged run data. */
export const countOf = (data: RunData, name: string) => data.names.find((n) => n.name === name)?.count;
