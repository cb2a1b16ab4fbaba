import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timeline, tlob, type WindowOptions } from '../../src/index.js';
import { otel } from '../../src/otel/index.js';
import { spin } from '../helpers.js';

beforeEach(() => {
  tlob.reactor('nop');
  tlob.enable();
});
afterEach(() => {
  tlob.enable();
});

const names = () => tlob.stats().map((s) => s.name);
const invalidArg = expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG' });
const invalidBudget = expect.objectContaining({ code: 'ERR_TLOB_INVALID_BUDGET' });

/** Runs `body` with tlob disabled, and enables it again whatever happens. */
function whileDisabled(body: () => void): void {
  tlob.disable();
  try {
    body();
  } finally {
    tlob.enable();
  }
}

/** `tlob.run` with arguments its types would refuse, as plain JavaScript passes them. */
const runLoosely = (name: unknown, options: unknown, fn: unknown) =>
  tlob.run(name as string, options as WindowOptions, fn as () => unknown);

describe('tlob.run while disabled counts nothing', () => {
  it('calls fn with no arguments and `this` undefined, and returns what it returns', () => {
    const promise = Promise.resolve(3);
    whileDisabled(() => {
      let seen: unknown[] = [];
      tlob.run('disabled-call', { budget: '1s' }, function (this: unknown, ...args: unknown[]) {
        seen = [this, args.length];
      });
      expect(seen).toEqual([undefined, 0]);
      expect(tlob.run('disabled-call', { budget: '1s' }, () => promise)).toBe(promise);
      const error = new Error('thrown');
      expect(() =>
        tlob.run('disabled-call', { budget: '1s' }, () => {
          throw error;
        }),
      ).toThrow(error);
    });
    expect(names()).not.toContain('disabled-call');
  });

  it('checks every argument, also for a name it checked before', () => {
    const onStop = () => {};
    whileDisabled(() => {
      tlob.run('checked', { budget: '5ms', onStop }, () => 1);
      expect(() => runLoosely('', { budget: '5ms' }, () => 1)).toThrow(invalidArg);
      expect(() => runLoosely(undefined, null, () => 1)).toThrow(invalidArg);
      expect(() => runLoosely('checked', null, () => 1)).toThrow(invalidArg);
      expect(() => runLoosely('checked', { budget: 'fast' }, () => 1)).toThrow(invalidBudget);
      expect(() => runLoosely('checked', { budget: '5ms' }, 42)).toThrow(invalidArg);
      expect(() => runLoosely('checked', { budget: '5ms', onStop: 1 }, () => 1)).toThrow(invalidArg);
      expect(tlob.run('checked', { budget: '5ms' }, () => 2)).toBe(2);
    });
    expect(names()).not.toContain('checked');
  });

  it('a window opened while disabled calls no onStop and publishes nothing', () => {
    const stops: unknown[] = [];
    const unsubscribe = tlob.subscribe('stop', (r) => stops.push(r));
    let called = false;
    const onStop = (): void => {
      called = true;
    };
    try {
      whileDisabled(() => {
        tlob.run('disabled-on-stop', { budget: '1ms', onStop }, () => 1);
      });
    } finally {
      unsubscribe();
    }
    expect(called).toBe(false);
    expect(stops).toEqual([]);
  });
});

describe('a refused tlob.run takes no stats name', () => {
  const one = (): number => 1;
  it.each<[string, object, unknown, unknown]>([
    ['fn not a function', { budget: '5ms' }, 42, invalidArg],
    ['onStop not a function', { budget: '5ms', onStop: 'x' }, one, invalidArg],
    ['a bad budget', { budget: 'fast' }, one, invalidBudget],
  ])('%s', (label, options, fn, error) => {
    const name = `refused ${label}`;
    const rows = tlob.stats().length;
    expect(() => runLoosely(name, options, fn)).toThrow(error);
    whileDisabled(() => expect(() => runLoosely(`${name} (disabled)`, options, fn)).toThrow(error));
    expect(names().filter((n) => n.startsWith(name))).toEqual([]);
    expect(tlob.stats().length).toBe(rows);
  });

  it('a name with a site still refuses a bad fn or onStop, and counts only the good calls', () => {
    tlob.run('has-a-site', { budget: '5ms' }, () => 1);
    expect(() => runLoosely('has-a-site', { budget: '5ms' }, null)).toThrow(invalidArg);
    expect(() => runLoosely('has-a-site', { budget: '5ms', onStop: 1 }, () => 1)).toThrow(invalidArg);
    expect(() => runLoosely('has-a-site', { budget: '6ms' }, null)).toThrow(invalidArg);
    expect(tlob.stats().find((s) => s.name === 'has-a-site')?.count).toBe(1);
  });
});

describe('tlob.run with options that are not an object', () => {
  it.each([
    ['null', null],
    ['a budget string', '50ms'],
    ['a number', 50],
    ['undefined', undefined],
  ])('%s: ERR_TLOB_INVALID_ARG like tlob.start, enabled or not', (_label, options) => {
    const expected = expect.objectContaining({
      code: 'ERR_TLOB_INVALID_ARG',
      message: expect.stringMatching(/^tlob\.run: expected options like \{ budget: "50ms" \}, got /),
    });
    expect(() => tlob.start(options as unknown as WindowOptions)).toThrow(invalidArg);
    expect(() => runLoosely('not-an-object', options, () => 1)).toThrow(TypeError);
    expect(() => runLoosely('not-an-object', options, () => 1)).toThrow(expected);
    whileDisabled(() => expect(() => runLoosely('not-an-object', options, () => 1)).toThrow(expected));
    expect(names()).not.toContain('not-an-object');
  });
});

describe('a window name that is not a non-empty string', () => {
  it.each([
    ['null', null],
    ['an empty string', ''],
    ['a number', 5],
  ])(
    '%s is refused by tlob.start and tlob.attach (only an absent name takes the default)',
    (_label, name) => {
      const expected = expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: expect.stringMatching(/expected `name` to be a non-empty string, got /),
      });
      expect(() => tlob.start({ budget: '5ms', name } as unknown as WindowOptions)).toThrow(expected);
      const target = { f: () => 1 };
      expect(() => tlob.attach(target, 'f', { budget: '5ms', name } as never)).toThrow(expected);
      const w = tlob.start({ budget: '5ms', name: undefined });
      expect(w.stop().name).toBe('window');
    },
  );
});

describe('tlob.disable options', () => {
  it.each([
    ['a typo', { unpath: true }, /got an object with `unpath`/],
    ['an extra option', { unpatch: true, all: true }, /got an object with `all`/],
    ['a non-boolean unpatch', { unpatch: 1 }, /got `unpatch`: 1 \(number\)$/],
    ['null', null, /got null$/],
  ])('%s throws ERR_TLOB_INVALID_ARG and leaves tlob enabled', (_label, options, message) => {
    expect(() => tlob.disable(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG', message: expect.stringMatching(message) }),
    );
    expect(tlob.enabled).toBe(true);
  });

  it('takes nothing, {} or { unpatch: boolean }', () => {
    for (const options of [undefined, {}, { unpatch: false }, { unpatch: true }]) {
      tlob.disable(options);
      expect(tlob.enabled).toBe(false);
      tlob.enable();
    }
  });
});

describe('tlob.run while disabled takes no stats names', () => {
  // last but one: the names of the tests above must not be pushed past the cap if it regresses
  it('1000 names run while disabled take no stats names: a later real name is not "(other)"', () => {
    const warnings: string[] = [];
    const unsubscribe = tlob.subscribe('warning', (w) => warnings.push((w as { code: string }).code));
    try {
      whileDisabled(() => {
        for (let i = 0; i < 1001; i++) expect(tlob.run(`off-${i}`, { budget: '1s' }, () => i)).toBe(i);
      });
      expect(names().filter((n) => n.startsWith('off-'))).toEqual([]);
      tlob.run('real-after-disabled', { budget: '1s' }, () => 1);
      expect(names()).toContain('real-after-disabled');
      expect(names()).not.toContain('(other)');
      expect(warnings).not.toContain('TLOB_TOO_MANY_NAMES');
    } finally {
      unsubscribe();
    }
  });
});

describe('a misspelt option is refused, naming the option meant', () => {
  const refused = (caller: string, key: string, meant: string) =>
    expect.objectContaining({
      code: 'ERR_TLOB_INVALID_ARG',
      message: expect.stringContaining(`${caller}: unknown option \`${key}\` (did you mean \`${meant}\`?)`),
    });

  it('by tlob.run (checked when its name or budget is new), tlob.attach, otel() and timeline.start', () => {
    const onstop = () => {};
    expect(() => tlob.run('misspelt-run', { budget: '1ms', onstop } as never, () => 1)).toThrow(
      refused('tlob.run', 'onstop', 'onStop'),
    );
    const target = { f: () => 1 };
    expect(() => tlob.attach(target, 'f', { budget: 5, callbak: true } as never)).toThrow(
      refused('tlob.attach', 'callbak', 'callback'),
    );
    expect(() => otel({ span: 'child' } as never)).toThrow(refused('tlob otel', 'span', 'spans'));
    expect(() => timeline.start({ maxEvent: 5 } as never)).toThrow(
      refused('tlob timeline.start', 'maxEvent', 'maxEvents'),
    );
    expect(timeline.enabled).toBe(false);
    expect(target.f.name).toBe('f'); // nothing was attached
    expect(tlob.stats().map((s) => s.name)).not.toContain('misspelt-run');
  });

  it('tlob.attach takes callback and aliases as booleans only', () => {
    for (const key of ['callback', 'aliases']) {
      expect(() => tlob.attach({ f: () => 1 }, 'f', { budget: 5, [key]: 'yes' } as never)).toThrow(
        expect.objectContaining({
          code: 'ERR_TLOB_INVALID_ARG',
          message: `tlob.attach: expected \`${key}\` to be a boolean, got "yes" (string)`,
        }),
      );
    }
  });
});

describe('tlob.ring.read', () => {
  it('takes a whole number of records, 0 or more, or all of them', () => {
    tlob.ring.clear();
    expect(tlob.ring.read(0)).toEqual([]);
    expect(tlob.ring.read()).toEqual([]);
    for (const bad of [1.5, -1, Number.NaN, '2', null]) {
      expect(() => tlob.ring.read(bad as number), String(bad)).toThrow(
        expect.objectContaining({
          code: 'ERR_TLOB_INVALID_ARG',
          message: expect.stringMatching(/^tlob\.ring\.read: expected `max` to be a whole number/),
        }),
      );
    }
  });

  it('returns at most `max` records', () => {
    tlob.ring.clear();
    for (let i = 0; i < 3; i++) tlob.run('ring-read-max', { budget: '1us' }, () => spin(0.05));
    expect(tlob.ring.read(2)).toHaveLength(2);
    expect(tlob.ring.read(5)).toHaveLength(1);
  });
});

describe("the package's declarations", () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  /** A project directory whose `node_modules/tlob` is this package; removed by the caller. */
  const project = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'tlob'), 'dir');
    return dir;
  };

  it('are each listed in docs/types.md: every type an entry point exports', async () => {
    const listed = readFileSync(join(root, 'docs/types.md'), 'utf8');
    const missing: string[] = [];
    for (const entry of ['index', 'bench', 'otel', 'tinybench', 'vitest']) {
      const declarations = readFileSync(join(root, 'dist', `${entry}.d.ts`), 'utf8');
      const runtime = await import(join(root, 'dist', `${entry}.js`));
      const exported = [...declarations.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) =>
        (m[1] as string).split(',').map(
          (part) =>
            part
              .trim()
              .split(/\s+as\s+/)
              .pop() as string,
        ),
      );
      for (const name of exported)
        if (name !== '' && !(name in runtime) && !listed.includes(`\`${name}\``))
          missing.push(`${entry}: ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it.each([
    [
      'the DOM library (the default)',
      undefined,
      ["import { otel } from 'tlob/otel';", "import { withTlob } from 'tlob/tinybench';"],
      ['otel', 'withTlob'],
    ],
    // the OpenTelemetry API's and tinybench's own declarations need `console` and `EventTarget`
    ['no DOM library either (`lib: ["es2022"]`)', ['es2022'], [], []],
  ])(
    'compile in a project without Node types (`types: []`, as TypeScript 6 has by default), with %s, library files checked too',
    (_, lib, imports, used) => {
      const dir = project('tlob-no-node-types-');
      try {
        writeFileSync(
          join(dir, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              target: 'es2022',
              lib,
              module: 'nodenext',
              strict: true,
              noEmit: true,
              types: [],
            },
            files: ['app.ts'],
          }),
        );
        writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
        writeFileSync(
          join(dir, 'app.ts'),
          [
            "import { budget, tlob } from 'tlob';",
            "import { Bench } from 'tlob/bench';",
            "import 'tlob/register';",
            ...imports,
            "tlob.probes.fromEnvironment({ TLOB_PROBES: '' });",
            "tlob.subscribe('stop', (r) => r.elapsedNs);",
            `export const used = [budget, Bench, ${used.join(', ')}];`,
          ].join('\n'),
        );
        const checked = spawnSync(
          process.execPath,
          [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
          { cwd: dir, encoding: 'utf8' },
        );
        expect(checked.stdout + checked.stderr).toBe('');
        expect(checked.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('declare ViolationRing as a type only, as the package exports no such value; type what each channel publishes and the ring holds', () => {
    const dir = project('tlob-ring-type-');
    try {
      writeFileSync(
        join(dir, 'ok.ts'),
        [
          "import { type ViolationRing, tlob } from 'tlob';",
          'const ring: ViolationRing = tlob.ring;',
          'export const n = ring.read(1).length + ring.capacity;',
          // as the README, channels.md and ring-and-stats.md read them
          'export const ms: number[] = ring.read(100).map((v) => v.elapsedNs / 1e6);',
          "const off = tlob.subscribe('error', (v, channel) => console.log(channel, v.name, v.elapsedNs, v.state));",
          'off();',
          "tlob.subscribe('stop', (r) => r.runningNs + r.waitingNs + (r.overBudget ? 1 : 0));",
          "tlob.subscribe('start', (w) => w.budgetNs + w.startNs);",
          "tlob.subscribe('event', (e) => e.next.length + e.atNs);",
          "tlob.subscribe('warning', (w) => w.code.length + w.message.length);",
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'bad.ts'),
        "import { ViolationRing } from 'tlob';\nexport const ring = new ViolationRing(16);\n",
      );
      const tsc = (...files: string[]) =>
        spawnSync(
          process.execPath,
          [
            join(root, 'node_modules/typescript/bin/tsc'),
            ...['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022'],
            ...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node'],
            ...['--typeRoots', join(root, 'node_modules/@types'), ...files],
          ],
          { cwd: dir, encoding: 'utf8' },
        );
      // one run for both files: only the construction fails
      const checked = tsc('ok.ts', 'bad.ts');
      expect(checked.stderr).toBe('');
      expect(checked.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(/^bad\.ts\(2,25\): error TS2693: 'ViolationRing' only refers to a type/),
      ]);
      // a violation's fields are tlob's: a misspelt one, or a state that does not exist, is an error
      writeFileSync(
        join(dir, 'typo.ts'),
        [
          "import { tlob } from 'tlob';",
          "tlob.subscribe('error', (v) => v.elapsedMs);",
          "tlob.subscribe('error', (v) => v.state === 'runing');",
          "tlob.subscribe('error', (v) => v.state === 'waiting' && v.event === 'budget_expired');",
        ].join('\n'),
      );
      expect(tsc('typo.ts').stdout.trim().split('\n')).toEqual([
        expect.stringMatching(/^typo\.ts\(2,34\): error TS2551: Property 'elapsedMs' does not exist/),
        expect.stringMatching(/^typo\.ts\(3,32\): error TS2367: .*'"runing"'/),
      ]);
      writeFileSync(join(dir, 'exported.mjs'), "console.log('ViolationRing' in (await import('tlob')));\n");
      const exported = spawnSync(process.execPath, ['exported.mjs'], { cwd: dir, encoding: 'utf8' });
      expect(exported.stderr + exported.stdout).toBe('false\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
