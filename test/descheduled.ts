import { readFileSync } from 'node:fs';

/**
 * Ground truth for timing scenarios on a shared machine: how long this thread has been runnable
 * but not running (preempted by other processes), in ms, from the kernel's scheduler statistics
 * (`/proc/thread-self/schedstat`, second field, in ns). A window counts such time as running,
 * since the thread was inside its code; a test compares it with what the test's own code measured.
 *
 * Read from the thread itself, the value is exact: a wait is added when the thread is switched
 * back in, before it can read. Without schedstat (another OS, a kernel without it) this is
 * always 0, and a test that subtracts it keeps its quiet-machine tolerance.
 */
export function descheduledMs(): number {
  if (!available) return 0;
  try {
    const fields = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
    return Number(fields[1]) / 1e6;
  } catch {
    available = false;
    return 0;
  }
}

let available = process.platform === 'linux';

/**
 * Runs `block`, a stretch of a test's code, and returns its ground truth: how long it held the
 * thread (ms, these readings included) and how much of that the thread waited for a CPU.
 */
export function hold(block: () => void): { heldMs: number; descheduledMs: number } {
  const t0 = performance.now();
  const d0 = descheduledMs();
  block();
  const descheduled = descheduledMs() - d0;
  return { heldMs: performance.now() - t0, descheduledMs: descheduled };
}

/**
 * The same reading as source text, for a child process or worker thread to measure itself
 * (CommonJS or ESM alike): it defines `descheduled()`, in ms, 0 where the kernel does not say.
 */
export const descheduledSource = `const descheduled = () => {
  try {
    const fs = process.getBuiltinModule('node:fs');
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
};`;
