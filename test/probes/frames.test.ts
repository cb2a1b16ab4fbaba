import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attach, budget, tlob } from '../../src/index.js';

// The frames tlob puts between a caller and the function it monitors: stack-reading code (depd,
// loggers that name their caller) sees them. Each path must add as few as possible, each one named
// so that a stack tells what it is, and all of them in tlob's own files.

const require = createRequire(import.meta.url);
const FIXTURE = './test/fixtures/probes/frames/lib.js';

let limit = 0;
beforeAll(() => {
  limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
});
afterAll(() => {
  Error.stackTraceLimit = limit;
});

/** The frames strictly between the frame of `callee` and the frame of `caller` in `stack`. */
function framesBetween(stack: string, callee: string, caller: string): string[] {
  const lines = stack.split('\n').filter((line) => line.startsWith('    at '));
  const from = lines.findIndex((line) => line.includes(`at ${callee} `) || line.includes(`.${callee} `));
  const to = lines.findIndex((line) => line.includes(`at ${caller} `));
  expect(from, `no frame of ${callee} in\n${stack}`).toBeGreaterThanOrEqual(0);
  expect(to, `no frame of ${caller} in\n${stack}`).toBeGreaterThan(from);
  return lines.slice(from + 1, to).map((line) => line.trim().slice(3));
}

/** The most frames any path may add: the wrapper, and the one method that runs the call. */
const MOST = 2;

/** Asserts that `frames` are few, in tlob's files, and that the caller's side is the wrapper named `name`. */
function expectTlobFrames(frames: string[], wrapperName: string | undefined): void {
  expect(frames.length, frames.join('\n')).toBeLessThanOrEqual(MOST);
  for (const frame of frames)
    expect(frame).toMatch(/\/src\/(probes|monitors\/tlob|tlob)[^ ]*\.ts:\d+:\d+\)$/);
  if (wrapperName !== undefined) {
    expect(frames.at(-1)).toMatch(new RegExp(`^(Object\\.)?${wrapperName}( \\[as \\w+\\])? \\(`));
  }
}

function stackOf(): string {
  return new Error('frames').stack as string;
}

async function stackOfAsync(): Promise<string> {
  return new Error('frames').stack as string;
}

function callerOfProbe(target: { stackOf(): unknown }): unknown {
  return target.stackOf();
}

describe('tlob frames between a caller and the original', () => {
  it('plain, the caller is right above the original (the measure itself adds nothing)', () => {
    expect(framesBetween(callerOfProbe({ stackOf }) as string, 'stackOf', 'callerOfProbe')).toEqual([]);
  });

  it('under attach', () => {
    const target = { stackOf };
    const probe = attach(target, 'stackOf', { entry: () => {}, ret: () => {} });
    try {
      expectTlobFrames(framesBetween(callerOfProbe(target) as string, 'stackOf', 'callerOfProbe'), 'stackOf');
    } finally {
      probe.detach();
    }
  });

  it('under tlob.attach, on the async path (a new site) and on the synchronous fast path (a learned one)', () => {
    const target = { stackOf };
    const probe = tlob.attach(target, 'stackOf', { budget: '10s', name: 'frames' });
    try {
      const first = framesBetween(callerOfProbe(target) as string, 'stackOf', 'callerOfProbe');
      expectTlobFrames(first, 'stackOf');
      for (let i = 0; i < 40; i++) callerOfProbe(target);
      const learned = framesBetween(callerOfProbe(target) as string, 'stackOf', 'callerOfProbe');
      expectTlobFrames(learned, 'stackOf');
    } finally {
      probe.detach();
    }
  });

  it('under tlob.attach, for an async function', async () => {
    const target = { stackOf: stackOfAsync };
    const probe = tlob.attach(target, 'stackOf', { budget: '10s', name: 'frames-async' });
    try {
      const stack = (await callerOfProbe(target)) as string;
      expectTlobFrames(framesBetween(stack, 'stackOfAsync', 'callerOfProbe'), 'stackOfAsync');
    } finally {
      probe.detach();
    }
  });

  it('under @budget', () => {
    const context = {
      kind: 'method',
      name: 'stackOf',
      static: false,
    } as unknown as ClassMethodDecoratorContext;
    const method = budget({ budget: '10s', name: 'frames-decorated' })(stackOf, context) as () => string;
    const target = { stackOf: method };
    expectTlobFrames(framesBetween(callerOfProbe(target) as string, 'stackOf', 'callerOfProbe'), 'stackOf');
  });

  it('under a module probe', () => {
    const lib = require(FIXTURE.replace('./test/', '../')) as { stackOfModuleCall(): string };
    const probe = tlob.attach(FIXTURE, 'stackOfModuleCall', { budget: '10s' });
    try {
      function callerOfModule(): string {
        return lib.stackOfModuleCall();
      }
      const frames = framesBetween(callerOfModule(), 'stackOfModuleCall', 'callerOfModule');
      expectTlobFrames(frames, 'stackOfModuleCall');
    } finally {
      probe.detach();
    }
  });

  it('under tlob.run: the call of tlob.run and the one that runs the function', () => {
    function callerOfRun(): string {
      return tlob.run('frames-run', { budget: '10s' }, stackOf);
    }
    expectTlobFrames(framesBetween(callerOfRun(), 'stackOf', 'callerOfRun'), undefined);
  });
});

// depd (used by express, body-parser and many more) warns once per call site of a deprecated
// function and names the site: the first frame above its own wrapper that is not in the
// deprecating library's file. A probe's frames sit exactly there.
describe('what depd reports as the call site of a deprecated function', () => {
  const lib = require('../fixtures/probes/frames/deprecated.js') as Record<string, () => string>;
  let reports: string[] = [];
  const listener = (error: Error) => {
    reports.push(((error.stack as string).split('\n')[1] as string).trim());
  };
  beforeAll(() => {
    process.on('deprecation', listener);
  });
  afterAll(() => {
    process.off('deprecation', listener);
  });

  /** Calls `name` of the library from two call sites of the test, the first one twice. */
  function callFromTwoSites(name: string): string[] {
    reports = [];
    function firstUserSite(): string {
      return (lib[name] as () => string)();
    }
    function secondUserSite(): string {
      return (lib[name] as () => string)();
    }
    firstUserSite();
    secondUserSite();
    firstUserSite();
    return reports;
  }

  it('plain: each user call site, once', () => {
    const sites = callFromTwoSites('plain');
    expect(sites).toHaveLength(2);
    expect(sites[0]).toMatch(/^at firstUserSite \(.*frames\.test\.ts:\d+:\d+\)$/);
    expect(sites[1]).toMatch(/^at secondUserSite \(.*frames\.test\.ts:\d+:\d+\)$/);
  });

  const probes = [
    [
      'attach',
      'underAttach',
      () => attach(lib, 'underAttach', { entry: () => {} }),
      /^at ObservedCallRunner\.invoke \(.*observed-call\.ts:/,
    ],
    [
      'tlob.attach',
      'underTlobAttach',
      () => tlob.attach(lib, 'underTlobAttach', { budget: '10s' }),
      /^at CallSite\.invoke \(.*call-site\.ts:/,
    ],
  ] as const;
  it.each(probes)(
    "the deprecated function itself under %s: the probe's frame, once for every user site",
    (_, name, probeIt, frame) => {
      const probe = probeIt();
      try {
        expect(callFromTwoSites(name)).toEqual([expect.stringMatching(frame)]);
      } finally {
        probe.detach();
      }
    },
  );

  it('a probed function of the user that calls it: the user line, as without tlob', () => {
    reports = [];
    const app = {
      handler(): string {
        return (lib.inside as () => string)();
      },
    };
    const probe = tlob.attach(app, 'handler', { budget: '10s' });
    try {
      app.handler();
      expect(reports).toEqual([expect.stringMatching(/^at Object\.handler \(.*frames\.test\.ts:\d+:\d+\)$/)]);
    } finally {
      probe.detach();
    }
  });
});
