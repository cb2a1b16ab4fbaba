import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeBinary, runNode } from '../probes/preload-apps.js';
import { dist, fixtures, root, runTlob, scratch } from './run-tlob.js';

describe('tlob commands', () => {
  it('prints the command list, and --help for every command', () => {
    const top = runTlob(['--help']);
    expect(top.status).toBe(0);
    for (const name of ['run', 'report', 'list', 'model', 'check-probes']) {
      expect(top.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
      const help = runTlob([name, '--help']);
      expect(help.status, name).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: tlob ${name}`));
    }
    expect(runTlob([]).status).toBe(2);
  });

  it('rejects an unknown command and an unknown flag with exit 2', () => {
    const unknown = runTlob(['mon']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(
      'tlob: unknown command "mon" (expected one of run, report, list, model, check-probes, bench)\nRun `tlob --help` for usage.\n',
    );
    const flag = runTlob(['model', '--svg']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toBe("tlob model: unknown option '--svg'\nRun `tlob model --help` for usage.\n");
  });

  it('names the command a mistyped one was meant to be', () => {
    for (const [typed, meant] of [
      ['runn', 'run'],
      ['rn', 'run'],
      ['reprot', 'report'],
      ['lsit', 'list'],
      ['modle', 'model'],
      ['check-probe', 'check-probes'],
      ['bench2', 'bench'],
    ]) {
      const out = runTlob([typed as string]);
      expect(out.status, typed).toBe(2);
      expect(out.stderr, typed).toMatch(
        new RegExp(`^tlob: unknown command "${typed}" \\(did you mean "${meant}"\\? `),
      );
    }
    expect(runTlob(['xyz']).stderr).not.toMatch(/did you mean/);
  });

  it("tlob help <command> prints that command's help", () => {
    const out = runTlob(['help', 'report']);
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(runTlob(['report', '--help']).stdout);
    expect(out.stdout).toMatch(/^Usage: tlob report/);
  });

  it('prints its version with --version and -v', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const out = runTlob([flag]);
      expect(out.status).toBe(0);
      expect(out.stdout).toBe(`tlob ${version}\n`);
    }
  });

  it('check-probes accepts good specs, prints what each does and the probes they leave, and exits 2 with the parser message at a bad one', () => {
    const good = runTlob([
      'check-probes',
      'p pg:Client.prototype.query threshold=20ms; p fs:readFile threshold=1ms',
      '-fs:readFile',
      'p ./a.mjs:open close threshold=1s name=door',
    ]);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toBe(
      [
        'ok  add pg:Client.prototype.query budget 20.0ms',
        'ok  add fs:readFile budget 1.00ms',
        'ok  remove fs:readFile',
        'ok  add ./a.mjs:open .. close budget 1.00s name door',
        'probes:',
        '  pg:Client.prototype.query  budget 20.0ms',
        '  ./a.mjs:open .. close  budget 1.00s  name door',
        'reactor: log (the default)',
        '',
      ].join('\n'),
    );
    const bad = runTlob(['check-probes', 'p pg:Client.prototype.query threshold=20ms', 'p pg threshold=1ms']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /^tlob check-probes: invalid probe spec "p pg threshold=1ms" at column 3: expected MODULE:PATH/,
    );
    expect(runTlob(['check-probes']).status).toBe(2);
    // a spec that removes a probe is an argument of its own, not an option; with nothing to remove,
    // `tlob run -p` would refuse it
    const removal = runTlob(['check-probes', '-pg:query']);
    expect(removal.status).toBe(2);
    expect(removal.stderr).toMatch(
      /^tlob check-probes: -pg:query: no probe pg:query to remove \(probes: none\)\n/,
    );
    expect(runTlob(['check-probes', '--help']).stdout).toMatch(
      /^Usage: tlob check-probes \[--config FILE\] SPEC/,
    );
  });

  describe('list and check-probes replay the specs as the preload and tlob run apply them', () => {
    const register = pathToFileURL(join(dist, 'register.js')).href;
    let dir = '';
    beforeAll(() => {
      dir = scratch();
      writeFileSync(
        join(dir, 'a.mjs'),
        'export function f() {}\nexport function g() {}\nexport function h() {}\n',
      );
      writeFileSync(join(dir, 'app.mjs'), "import { f } from './a.mjs';\nf();\n");
      writeFileSync(
        join(dir, 'tlob.config.json'),
        JSON.stringify({
          probes: ['p ./a.mjs:f threshold=20ms', 'p ./a.mjs:g threshold=1s name=gee'],
          reactor: 'throw',
        }),
      );
    });
    const list = (env: Record<string, string> = {}) => runTlob(['list'], { cwd: dir, env });
    const run = (env: Record<string, string> = {}, args: string[] = []) =>
      runTlob(['run', '-q', ...args, 'app.mjs'], { cwd: dir, env });
    const preload = (env: Record<string, string>) =>
      runNode(dir, [`--import=${register}`, 'app.mjs'], { NODE_OPTIONS: '', ...env });
    /** What follows "tlob <command>: " on the first line of stderr. */
    const reason = (stderr: string) => /^tlob [\w-]+: (.*)$/m.exec(stderr)?.[1];

    it('shows the probes the specs leave, not the specs one by one, and the reactor', () => {
      const out = list();
      expect(out.status, out.stderr).toBe(0);
      const file = join(realpathSync(dir), 'tlob.config.json');
      expect(out.stdout.slice(out.stdout.indexOf('probes:'))).toBe(
        [
          'probes:',
          `  (config ${file})`,
          '  ./a.mjs:f  budget 20.0ms',
          '  ./a.mjs:g  budget 1.00s  name gee',
          `reactor: throw (config ${file})`,
          '',
        ].join('\n'),
      );
      const replaced = list({ TLOB_PROBES: '-./a.mjs:f; p ./a.mjs:h threshold=5ms', TLOB_REACTOR: 'nop' });
      expect(replaced.status, replaced.stderr).toBe(0);
      expect(replaced.stdout).not.toContain('./a.mjs:f');
      expect(replaced.stdout).toContain('  ./a.mjs:g  budget 1.00s  name gee\n  ./a.mjs:h  budget 5.00ms\n');
      expect(replaced.stdout).toContain('reactor: nop (TLOB_REACTOR)\n');
      const checked = runTlob(['check-probes', '-./a.mjs:g', 'p ./a.mjs:g threshold=2s'], { cwd: dir });
      expect(checked.status, checked.stderr).toBe(0);
      expect(checked.stdout).toContain('probes:\n');
      expect(checked.stdout).toContain('  ./a.mjs:f  budget 20.0ms\n  ./a.mjs:g  budget 2.00s\n');
    });

    it.each([
      ['a second probe on a function the config probes', { TLOB_PROBES: 'p ./a.mjs:g threshold=5ms' }],
      ['the removal of a probe there is not', { TLOB_PROBES: '-./a.mjs:zzz' }],
      ['a reactor the preload rejects', { TLOB_REACTOR: 'bogus' }],
    ])('refuses %s with exit 2 and the message tlob run gives, as the preload does', (_what, env) => {
      const listed = list(env);
      const ran = run(env);
      expect(ran.status).toBe(2);
      expect(listed.status).toBe(2);
      expect(listed.stdout).toBe('');
      expect(reason(listed.stderr)).toBe(reason(ran.stderr));
      const started = preload(env);
      expect(started.status).not.toBe(0);
      expect(started.stderr).toContain(reason(ran.stderr));
    });

    it('check-probes refuses two probes on one function, in one argument or after the config, as tlob run -p does', () => {
      const twice = 'p ./a.mjs:h threshold=20ms; p ./a.mjs:h threshold=30ms';
      const checked = runTlob(['check-probes', twice], { cwd: dir });
      expect(checked.status).toBe(2);
      expect(checked.stdout).toBe('');
      expect(checked.stderr).toMatch(
        /^tlob check-probes: p \.\/a\.mjs:h threshold=30ms: \.\/a\.mjs:h already has a probe \(remove it first with -\.\/a\.mjs:h\)\n/,
      );
      const ran = run({}, ['-p', twice]);
      expect(ran.status).toBe(2);
      expect(ran.stderr).toMatch(
        /^tlob run: probe: p \.\/a\.mjs:h threshold=30ms: \.\/a\.mjs:h already has a probe/,
      );
      const onConfig = runTlob(['check-probes', 'p ./a.mjs:f threshold=1ms'], { cwd: dir });
      expect(onConfig.status).toBe(2);
      expect(onConfig.stderr).toContain('./a.mjs:f already has a probe');
    });
  });

  it('model prints the automaton, and with --dot the file docs/model.md shows', () => {
    const text = runTlob(['model']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('stopped   --start; reset(clk)--> running');
    expect(text.stdout).toContain('sleeping  --wakeup--> waiting');
    expect(text.stdout).toContain('invariant in running, waiting, sleeping: clk < BUDGET_NS');
    const dot = runTlob(['model', '--dot']);
    expect(dot.stdout).toBe(readFileSync(join(root, 'docs/models/tlob.dot'), 'utf8'));
  });

  it('list shows the monitor and the probes of TLOB_PROBES and the config file', () => {
    const dir = scratch();
    writeFileSync(
      join(dir, 'tlob.config.json'),
      JSON.stringify({ probes: ['p pg:Client.prototype.query threshold=20ms'] }),
    );
    const out = runTlob(['list'], {
      cwd: dir,
      env: { TLOB_PROBES: 'p ./app.mjs:handle threshold=50ms name=handle' },
    });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^ {2}tlob {2}task latency over budget/m);
    expect(out.stdout).toContain('  pg:Client.prototype.query  budget 20.0ms\n');
    expect(out.stdout).toContain('  ./app.mjs:handle  budget 50.0ms  name handle\n');
    const broken = runTlob(['list', '--config', join(dir, 'missing.json')]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^tlob list: cannot find the config file ".*missing\.json"\n/);
    writeFileSync(join(dir, 'bad.json'), '{"probes": 5}');
    const malformed = runTlob(['list', '--config', join(dir, 'bad.json')]);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/^tlob list: \/.*bad\.json: expected "probes" to be a string/);
  });

  it('bench exits 2 with a message at a missing file, as tlob-bench does', () => {
    const out = runTlob(['bench', 'nope.mjs']);
    expect(out.status, out.stderr).toBe(2);
    expect(out.stderr).toMatch(/^tlob bench: cannot find the bench file "nope\.mjs"/);
    expect(out.stderr).not.toMatch(/^\s+at /m); // no stack
    const alone = spawnSync(nodeBinary(), [join(dist, 'bench-cli.js'), 'nope.mjs'], {
      cwd: fixtures,
      encoding: 'utf8',
    });
    expect(alone.status).toBe(2);
    expect(alone.stderr).toBe(out.stderr);
  });

  it('report builds the HTML report from saved data, and rejects a file that is not', () => {
    const dir = scratch();
    const json = join(dir, 'run.json');
    const run = runTlob(
      ['run', '-q', '-p', 'p ./lib.mjs:work threshold=20ms name=work', '--json', json, 'app.mjs'],
      {
        env: { WORK: '4' },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const html = join(dir, 'out.html');
    const out = runTlob(['report', json, '-o', html]);
    expect(out.status, out.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('"name":"work","budgetNs":20000000,"count":4');

    writeFileSync(join(dir, 'other.json'), '{"a":1}');
    const wrong = runTlob(['report', join(dir, 'other.json')]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/expected .*other\.json to hold the data of `tlob run --json`/);
    expect(runTlob(['report']).status).toBe(2);

    // data of the right version with a field missing or of the wrong type: named, not a crash
    const data = JSON.parse(readFileSync(json, 'utf8'));
    type Data = any; // edits of parsed JSON
    const broken = (edit: (d: Data) => void) => {
      const copy = structuredClone(data);
      edit(copy);
      const file = join(dir, 'broken.json');
      writeFileSync(file, JSON.stringify(copy));
      return runTlob(['report', file, '-o', join(dir, 'broken.html')]);
    };
    const edits: [(d: Data) => void, string][] = [
      [(d) => delete d.command, 'command: expected an array, got nothing'],
      [(d) => delete d.violations, 'violations: expected an array, got nothing'],
      [(d) => delete d.names[0].elapsed, 'names[0].elapsed: expected an object'],
      [(d) => (d.threads[0] = 'x'), 'threads[0]: expected an object, got "x"'],
    ];
    for (const [edit, problem] of edits) {
      const bad = broken(edit);
      expect(bad.status, bad.stderr).toBe(2);
      expect(bad.stderr).toContain(`got something else (${problem}`);
      expect(bad.stderr).not.toContain('cannot write');
    }
    // the report would overwrite its own data
    const self = runTlob(['report', json, '-o', json]);
    expect(self.status).toBe(2);
    expect(self.stderr).toMatch(/--output: .*run\.json is the data to report already/);
  });

  it('report leaves a file it cannot write whole as it was, and no partial file beside it', () => {
    const dir = scratch();
    const json = join(dir, 'run.json');
    writeFileSync(
      join(dir, 'many.cjs'),
      `const { tlob } = require(${JSON.stringify(join(dist, 'index.cjs'))});
for (let i = 0; i < 5000; i++) tlob.run('w' + (i % 7), { budget: '1s' }, () => {});\n`,
    );
    const run = runTlob(['run', '-q', '--json', json, join(dir, 'many.cjs')]);
    expect(run.status, run.stderr).toBe(0);
    const trace = join(dir, 'trace.json');
    writeFileSync(trace, 'the trace of an earlier run');
    // files of at most 512 KiB: the report fits, the trace of 5,000 windows does not (EFBIG)
    const out = spawnSync(
      'bash',
      [
        '-c',
        'ulimit -f 1024 && exec "$0" "$@"',
        nodeBinary(),
        join(dist, 'cli.js'),
        'report',
        json,
        '-o',
        join(dir, 'r.html'),
        '--trace',
        trace,
      ],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(out.status, out.stderr).toBe(1);
    expect(out.stderr).toMatch(/tlob: cannot write .*trace\.json: EFBIG/);
    expect(out.stderr).toMatch(/tlob: wrote .*r\.html/);
    expect(readFileSync(trace, 'utf8')).toBe('the trace of an earlier run');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
