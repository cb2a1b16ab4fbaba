// The timing loops shared by the per-call benchmarks. Both clocks are read around each batch: the
// process's CPU time (all its threads, so GC and JIT helper threads count) and the wall clock.
// On a shared, noisy machine the CPU time is the steadier measure of what a call costs; the wall
// clock also counts the time the process was preempted by others.
import { performance } from 'node:perf_hooks';
import { median } from './summary.mjs';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Starts a measurement; `read(units)` returns CPU and wall nanoseconds per unit since the start. */
function stopwatch() {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  return (units) => {
    const cpu = process.cpuUsage(cpu0);
    return {
      cpu: ((cpu.user + cpu.system) * 1e3) / units,
      wall: ((performance.now() - wall0) * 1e6) / units,
    };
  };
}

/** Medians of a list of `{ cpu, wall }` samples, as `{ ns, wallNs }` (ns: CPU time). */
function summarize(samples) {
  return { ns: median(samples.map((s) => s.cpu)), wallNs: median(samples.map((s) => s.wall)) };
}

/**
 * Builds a loop with its own feedback (a fresh `Function`), so that the call site inside it sees
 * only this variant's `op` and stays monomorphic whatever else the process has run.
 */
function freshLoop() {
  return new Function(
    'op',
    'n',
    'let sink = 0; for (let i = 0; i < n; i++) sink = (sink + (op(i) | 0)) | 0; return sink;',
  );
}

/**
 * Nanoseconds per call of `op`, the medians over `batches` batches. A batch calls `op` n times in a
 * synchronous loop and then lets the event loop turn once, so work that calls defer (microtasks,
 * `setImmediate`) is paid inside the timed region. n is chosen so that a batch lasts about
 * `batchMs`; a warm-up of about `warmupMs` comes first.
 */
export async function nsPerCall(op, { batches = 9, batchMs = 40, warmupMs = 300 } = {}) {
  const loop = freshLoop();
  let n = 1000;
  let sink = 0;
  const warmupEnd = performance.now() + warmupMs;
  for (;;) {
    const t0 = performance.now();
    sink += loop(op, n);
    await turn();
    const dt = performance.now() - t0;
    if (dt < batchMs / 2) n *= 2;
    else n = Math.max(1000, Math.round((n * batchMs) / dt));
    if (performance.now() > warmupEnd) break;
  }
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const read = stopwatch();
    sink += loop(op, n);
    await turn();
    samples.push(read(n));
  }
  if (sink === 0.5) process.stderr.write('');
  return summarize(samples);
}

/**
 * Nanoseconds per unit of an async `body(n)` that performs n awaits (or n of whatever unit), the
 * medians over `batches` batches, after a warm-up of about `warmupMs`. A batch awaits `body(n)` as
 * many times as fit in about `batchMs`: the process's CPU time read over a few milliseconds is
 * unreliable here (over 3 ms spins of one thread it read anywhere from 0.3× to 2× the wall time,
 * the kernel's accounting catching up in steps), so a batch must last tens of milliseconds.
 */
export async function nsPerAsyncUnit(body, n, { batches = 9, warmupMs = 300, batchMs = 40 } = {}) {
  const warmupStart = performance.now();
  let calls = 0;
  while (performance.now() < warmupStart + warmupMs) {
    await body(n);
    calls++;
  }
  const repeats = Math.max(1, Math.round(batchMs / ((performance.now() - warmupStart) / calls)));
  await turn();
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const read = stopwatch();
    for (let r = 0; r < repeats; r++) await body(n);
    samples.push(read(n * repeats));
  }
  return summarize(samples);
}
