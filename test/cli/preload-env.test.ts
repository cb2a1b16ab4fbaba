import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../probes/preload-apps.js';
import { checkTrace } from '../report/trace-structure.js';
import { fixtures, root, scratch } from './run-tlob.js';

// The preload without the command: TLOB_TRACE=<file> and TLOB_REACTOR.
describe('--import tlob/register with TLOB_TRACE and TLOB_REACTOR', () => {
  const register = pathToFileURL(join(root, 'dist/register.js')).href;

  it('TLOB_TRACE=<file> writes the Chrome trace of each process at exit (%p: its pid)', () => {
    const dir = scratch();
    const out = runNode(fixtures, [`--import=${register}`, 'app.mjs'], {
      TLOB_PROBES: 'p ./lib.mjs:work threshold=1s name=work',
      TLOB_TRACE: join(dir, 'trace-%p.json'),
      WORK: '3',
    });
    expect(out.status, out.stderr).toBe(0);
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^trace-\d+\.json$/);
    const windows = checkTrace(JSON.parse(readFileSync(join(dir, file as string), 'utf8')));
    expect(windows.map((w) => w.name)).toEqual(['work', 'work', 'work']);
  });

  it.each([
    [
      'is left to Node when the program does not handle it: the process dies by it at once, with no trace',
      false,
    ],
    ['the program handles is left to it, and its exit writes the trace', true],
  ])('TLOB_TRACE=<file>: a SIGTERM %s', async (_, handles) => {
    const dir = scratch();
    const file = join(dir, 'trace.json');
    const program =
      "import { tlob } from 'tlob'; " +
      "for (let i = 0; i < 3; i++) await tlob.run('work', { budget: '1s' }, () => new Promise((r) => setTimeout(r, 2))); " +
      (handles ? "process.on('SIGTERM', () => process.exit(0)); " : '') +
      "setInterval(() => {}, 1000); console.log('ready');";
    const child = spawn(process.execPath, [`--import=${register}`, '--input-type=module', '-e', program], {
      cwd: root,
      env: { ...process.env, TLOB_TRACE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      if (String(d).includes('ready')) child.kill('SIGTERM');
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal }, stderr).toEqual(
      handles ? { code: 0, signal: null } : { code: null, signal: 'SIGTERM' },
    );
    if (!handles) {
      expect(existsSync(file)).toBe(false);
      return;
    }
    const windows = checkTrace(JSON.parse(readFileSync(file, 'utf8')));
    expect(windows.map((w) => w.name)).toEqual(['work', 'work', 'work']);
  });

  it('the watchdog wraps setTimeout under the preload unless TLOB_WATCHDOG_TIMERS=0 (or TLOB_WATCHDOG=0)', () => {
    const probe = [
      `--import=${register}`,
      '--input-type=module',
      '-e',
      "import { setTimeout as original } from 'node:timers'; import { tlob } from 'tlob'; " +
        'console.log(JSON.stringify({ original: globalThis.setTimeout === original, status: tlob.watchdog() }))',
    ];
    const read = (env: Record<string, string>) => {
      const r = runNode(root, probe, env);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim());
    };
    expect(read({})).toMatchObject({ original: false, status: { enabled: true, timers: true } });
    expect(read({ TLOB_WATCHDOG_TIMERS: '0' })).toMatchObject({
      original: true,
      status: { enabled: true, timers: false },
    });
    expect(read({ TLOB_WATCHDOG: '0' })).toMatchObject({ original: true, status: { enabled: false } });
    expect(read({ TLOB_WATCHDOG: 'OFF' })).toMatchObject({ status: { enabled: false } });
    for (const [variable, value] of [
      ['TLOB_WATCHDOG', 'maybe'],
      ['TLOB_WATCHDOG_TIMERS', 'sometimes'],
    ]) {
      const bad = runNode(root, probe, { [variable as string]: value as string });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain(
        `tlob/register: expected \`${variable}\` to be 1, true, yes, on, 0, false, no or off, got "${value}" (string)`,
      );
    }
  });

  it('TLOB_REACTOR chooses the reactor, and a bad one stops the program at start with the reason', () => {
    const env = { TLOB_PROBES: 'p ./lib.mjs:work threshold=1ms name=work', WORK: '2' };
    const logged = runNode(fixtures, [`--import=${register}`, 'app.mjs'], env);
    expect(logged.stderr).toMatch(/^tlob: "work" #\d+ over budget 1\.00ms/m);
    const quiet = runNode(fixtures, [`--import=${register}`, 'app.mjs'], { ...env, TLOB_REACTOR: 'nop' });
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    const bad = runNode(fixtures, [`--import=${register}`, 'app.mjs'], { ...env, TLOB_REACTOR: 'loud' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(
      'tlob/register: expected `TLOB_REACTOR` to be one of "log", "nop", "abort", "throw", got "loud" (string)',
    );
  });
});
