/**
 * The inspector sessions that watchdog threads connect to the main thread (a stack capture, a
 * signal handed over), counted in two words shared by every copy of tlob in the process, at
 * `globalThis[Symbol.for(INSPECTOR_SESSIONS_KEY)]`. Node prints "Waiting for the debugger to
 * disconnect..." when the main thread runs its at-exit callbacks (`process.exit()`, the end of the
 * program, a `process.kill()` of its own pid by a signal it has no listener for) while such a
 * session is connected. A session is connected on the main thread from the interrupt check that
 * dispatches its connection to the one that dispatches its disconnection; both are dispatched
 * during an `Atomics.wait` too, so the main thread waits on the count before it ends the process.
 */
export const INSPECTOR_SESSIONS_KEY = 'tlob.watchdog.inspectorSessions';

/** Sessions a watchdog thread connected, or is connecting, and has not disconnected yet. */
export const SESSIONS = 0;
/** 1 while the main thread ends the process: a watchdog thread connects no new session. */
export const CLOSING = 1;

/** The two words (created by the first caller), on the main thread. */
export function inspectorSessions(): Int32Array {
  const slot = globalThis as Record<symbol, Int32Array | undefined>;
  const key = Symbol.for(INSPECTOR_SESSIONS_KEY);
  slot[key] ??= new Int32Array(new SharedArrayBuffer(8));
  return slot[key];
}

/**
 * Before the main thread ends the process: no new session, and up to `waitMs` for those connected
 * to disconnect (their disconnection is dispatched here while this waits).
 */
export function closeInspectorSessions(waitMs: number): void {
  const words = inspectorSessions();
  Atomics.store(words, CLOSING, 1);
  const until = performance.now() + waitMs;
  for (;;) {
    const connected = Atomics.load(words, SESSIONS);
    const left = until - performance.now();
    if (connected <= 0 || left <= 0) return;
    Atomics.wait(words, SESSIONS, connected, left);
  }
}

/** The process lives on after all (a signal that did not end it): sessions may connect again. */
export function reopenInspectorSessions(): void {
  Atomics.store(inspectorSessions(), CLOSING, 0);
}
