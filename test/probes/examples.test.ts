import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from './preload-apps.js';

// The programs in examples/probes-demo/ (docs/probes.md, docs/decorators.md) run as child processes
// against the built package, so the examples the docs point at cannot rot. They live in a folder of
// their own: test/examples.test.ts checks the top-level examples/ files.
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) => {
  const out = runNode(root, args, { NO_COLOR: '1', ...env });
  expect(out.status, out.stderr).toBe(0);
  return out;
};

describe('examples/probes-demo', () => {
  it('attach.mjs', () => {
    const { stdout } = run(['examples/probes-demo/attach.mjs']);
    expect(stdout).toContain('attach: the caller got [{"sql":"select 1"}]');
    expect(stdout).toContain('attach: query("select 1") ended by "fulfilled" after 15+ ms');
    expect(stdout).toContain('is the original again: true');
    expect(stdout).toContain('callback: ret got [null,"contents of a.txt"]');
    // db.query sleeps 15 ms and spins 3 ms under a 50 ms budget: over it only when the machine
    // really made the call take 50 ms (a late timer, a preempted thread), as its elapsed time shows
    const split = stdout.match(
      /^tlob\.attach: db\.query overBudget=(true|false) elapsed ([\d.]+) = running ([\d.]+) \+ waiting ([\d.]+) \+ sleeping ([\d.]+) ms$/m,
    );
    expect(split, stdout).not.toBeNull();
    const [overBudget, elapsed, running, waiting, sleeping] = (split as RegExpMatchArray).slice(1);
    const elapsedMs = Number(elapsed);
    if (Math.abs(elapsedMs - 50) > 0.05) expect(overBudget).toBe(elapsedMs > 50 ? 'true' : 'false'); // printed to 0.1 ms
    expect(elapsedMs).toBeGreaterThanOrEqual(17); // the timer (on a millisecond clock) and the spin
    // the split sums to the elapsed time, or to the budget for a window that broke it (its split
    // ends at the violation); each printed value is rounded to 0.1 ms
    const sum = Number(running) + Number(waiting) + Number(sleeping);
    expect(Math.abs(sum - Math.min(elapsedMs, 50))).toBeLessThanOrEqual(0.2);
    expect(stdout).toContain('current() inside handle: handler; outside: undefined');
    expect(stdout).toMatch(/^pair: transaction closed after [\d.]+ ms$/m);
    expect(stdout).toContain('disable(): the wrapper stays in place: true');
    expect(stdout).toContain('disable({ unpatch: true }): the original is back: true');
    expect(stdout).toContain('enable(): the wrapper is back: true');
  });

  it('what-callers-see.mjs', () => {
    const { stdout, stderr } = run(['examples/probes-demo/what-callers-see.mjs']);
    expect(stdout).toContain('aliases: true -> true');
    expect(stdout).toContain('name: "awaitable" -> "awaitable"');
    expect(stdout).toContain('length: 0 -> 0');
    expect(stdout).toContain('toString differs: true');
    expect(stdout).toContain('a reference taken before attach is the original: true');
    expect(stdout).toContain('async function tag: AsyncFunction -> AsyncFunction');
    expect(stdout).toContain('isAsyncFunction (internal slot): true -> false');
    expect(stdout).toContain('shimmer markers: __wrapped=true __original is the original: true');
    expect(stdout).toContain('iteratee saw 3 items; windows through each and forEach: 2');
    expect(stdout).toContain('after detach, each is the original again: true');
    expect(stderr).not.toContain('Warning');
  });

  it('specs.mjs', () => {
    const { stdout, stderr } = run(['examples/probes-demo/specs.mjs']);
    expect(stdout).toContain('list: p ./lib.mjs:slowSum threshold=5ms name=slowSum');
    expect(stdout).toContain('list: p ./lib.mjs:default.prototype.get threshold=5ms name=cache.get');
    expect(stdout).toContain('list: p node:zlib:gzipSync threshold=50ms');
    expect(stdout).toContain('slowSum(10) = 55');
    expect(stdout).toContain('after removal: 2 probes');
    expect(stdout).toContain('ERR_TLOB_INVALID_SPEC: tlob.probes.add: invalid probe spec');
    expect(stdout).toContain('[["slowSum",1,1],["cache.get",1,1],["node:zlib:gzipSync",1,0]]');
    expect(stderr).toMatch(/^tlob: "slowSum" #\d+ over budget 5\.00ms/m);
    expect(stderr).not.toContain('Warning');
  });

  it('app.mjs, unchanged, under --import tlob/register', () => {
    const plain = run(['examples/probes-demo/app.mjs']);
    const probed = run(['--import', 'tlob/register', 'examples/probes-demo/app.mjs'], {
      TLOB_PROBES: 'p ./examples/probes-demo/handler.mjs:handle threshold=5ms',
    });
    expect(probed.stdout).toBe(plain.stdout);
    expect(probed.stderr).toMatch(
      /^tlob: ".\/examples\/probes-demo\/handler\.mjs:handle" #1 over budget 5\.00ms/m,
    );
  });

  it('decorators.mjs', () => {
    const { stdout } = run(['examples/probes-demo/decorators.mjs']);
    expect(stdout).toMatch(/^violation: Repository.find\nfind -> {"id":7}\n/);
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string).sort()).toEqual([
      ['Repository.find', 1, 1],
      ['repo.connect', 1, 0],
    ]);
  });
});
