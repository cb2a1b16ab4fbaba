import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeBinary } from '../probes/preload-apps.js';
import { readRun, root, scratch } from './run-tlob.js';

// The command of the README and docs/cli.md, as written there: `npx tlob run … examples/cli/server.mjs`.
describe('examples/cli/server.mjs under npx tlob run', () => {
  it('serves its requests and writes the report the docs show', () => {
    const dir = scratch();
    const report = join(dir, 'report.html');
    const json = join(dir, 'run.json');
    const npx = join(dirname(nodeBinary()), 'npx');
    const out = spawnSync(
      existsSync(npx) ? npx : 'npx',
      [
        '--no-install',
        'tlob',
        'run',
        '--config',
        'examples/cli/tlob.config.json',
        '--report',
        report,
        '--json',
        json,
        'examples/cli/server.mjs',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' },
        timeout: 60_000,
      },
    );
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('served 44 requests');
    expect(out.stderr).toMatch(/^getUser +40 +\d+ /m);
    expect(out.stderr).toMatch(/^renderReport +4 +\d+ /m);
    expect(out.stderr).toContain(`tlob: wrote ${report}, ${json}`);
    expect(readFileSync(report, 'utf8')).toContain('"name":"getUser"');
    expect(
      readRun(json)
        .names.map((n) => n.name)
        .sort(),
    ).toEqual(['getUser', 'renderReport']);
  });
});
