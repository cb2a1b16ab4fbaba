import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOWEST_NODE_MAJOR, unsupportedNode } from '../../src/supported-node.js';
import { dist, fixtures, root } from './run-tlob.js';

// Before Node 22 the library loads but `module.registerHooks` is missing: the command and the
// preload refuse to run there, naming the running version and the supported ones, rather than
// measure nothing and blame the program's modules.

/** Every `node` on the PATH and in the usual places, with its version. */
function nodesOnMachine(): { path: string; version: string }[] {
  const candidates = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(delimiter))
    if (dir !== '') candidates.add(join(dir, 'node'));
  for (const path of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) candidates.add(path);
  const found: { path: string; version: string }[] = [];
  for (const path of candidates) {
    try {
      const version = execFileSync(path, ['-p', 'process.versions.node'], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
        timeout: 10_000,
      }).trim();
      found.push({ path, version });
    } catch {
      // not there, or not runnable
    }
  }
  return found;
}

const oldNode = nodesOnMachine().find((n) => Number(n.version.split('.')[0]) < LOWEST_NODE_MAJOR);

function runOld(args: string[]) {
  return spawnSync((oldNode as { path: string }).path, args, {
    cwd: fixtures,
    env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', TLOB_PROBES: 'p ./lib.mjs:work threshold=1ms' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('supported Node.js versions', () => {
  it('refuses a major below 22, names the running version and the supported ones', () => {
    expect(unsupportedNode('20.20.2')).toBe(
      'Node.js v20.20.2 is not supported: tlob runs on Node.js 22, 24 and 26',
    );
    expect(unsupportedNode('18.0.0')).toMatch(/^Node\.js v18\.0\.0 is not supported/);
    for (const version of ['22.0.0', '22.15.0', '24.1.0', '26.12.1', '27.0.0'])
      expect(unsupportedNode(version)).toBeUndefined();
    expect(unsupportedNode()).toBeUndefined();
  });

  it('agrees with the engines of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${LOWEST_NODE_MAJOR}`);
  });
});

describe.skipIf(oldNode === undefined)(
  oldNode === undefined
    ? `under a Node.js before ${LOWEST_NODE_MAJOR}: skipped, none on this machine (PATH, /usr/bin, /usr/local/bin, /bin)`
    : `under Node.js ${oldNode.version} (${oldNode.path})`,
  () => {
    const version = oldNode?.version ?? '';
    const refusal = `Node.js v${version} is not supported: tlob runs on Node.js 22, 24 and 26`;

    it('tlob run and the other commands exit 2 with the refusal, before anything runs', () => {
      for (const args of [['run', 'app.mjs'], ['list'], ['check-probes', 'p ./lib.mjs:work threshold=1ms']]) {
        const out = runOld([join(dist, 'cli.js'), ...args]);
        expect(out.stderr, args.join(' ')).toBe(`tlob: ${refusal}\n`);
        expect(out.status, args.join(' ')).toBe(2);
        expect(out.stdout).toBe('');
      }
      const bench = runOld([join(dist, 'bench-cli.js'), 'bench.mjs']);
      expect(bench.stderr).toBe(`tlob bench: ${refusal}\n`);
      expect(bench.status).toBe(2);
    });

    it('the preload stops the program at start with ERR_TLOB_UNSUPPORTED_NODE, by --import and --require', () => {
      for (const [flag, file] of [
        ['--import', 'register.js'],
        ['--require', 'register.cjs'],
      ] as const) {
        const out = runOld([`${flag}=${join(dist, file)}`, '-e', 'console.log("the program ran")']);
        expect(out.stdout, flag).toBe('');
        expect(out.status, flag).toBe(1);
        expect(out.stderr, flag).toContain(`tlob/register: ${refusal}`);
        expect(out.stderr, flag).toContain("code: 'ERR_TLOB_UNSUPPORTED_NODE'");
      }
    });
  },
);
