/**
 * The state of a window at its deadline and its split up to it, from its accounting as of its last
 * transition: the time since that transition belongs to the state it is in, except that a sleeping
 * window whose awaited timer came due before the deadline was waiting from that moment (its
 * continuation was ready behind whatever holds the thread).
 *
 * Self-contained (no imports, no closure): the watchdog thread runs it from its source text.
 */
export function deadlineSplit(
  state: string,
  lastMs: number,
  runningMs: number,
  waitingMs: number,
  sleepingMs: number,
  readyMs: number,
  deadlineMs: number,
): { state: string; runningMs: number; waitingMs: number; sleepingMs: number } {
  const open = Math.max(0, deadlineMs - lastMs);
  if (state === 'running') runningMs += open;
  else if (state === 'waiting') waitingMs += open;
  else if (state === 'sleeping') {
    if (readyMs < deadlineMs) {
      const slept = Math.max(0, readyMs - lastMs);
      sleepingMs += slept;
      waitingMs += open - slept;
      state = 'waiting';
    } else sleepingMs += open;
  }
  return { state, runningMs, waitingMs, sleepingMs };
}
