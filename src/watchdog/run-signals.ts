import { readFileSync } from 'node:fs';

/**
 * Under `tlob run`, the main thread of each process of the program registers, at
 * `globalThis[Symbol.for(RUN_SIGNALS_KEY)]`, where `tlob run` writes the signals it receives and
 * the function that takes one (the run data's collector: it writes the data and ends the process
 * by the signal where the program does not handle it). The watchdog, once it runs, hands each
 * signal written there to that function, evaluated on the main thread through the inspector: it
 * runs even while the thread is held in a synchronous loop, where the signal itself waits.
 */
export const RUN_SIGNALS_KEY = 'tlob.run.signals';

/**
 * Where a thread's watchdog, once it watches the thread, registers `heldViolation` (watchdog.ts) at
 * `globalThis[Symbol.for(HELD_VIOLATION_KEY)]`: the run data's collector, which the preload bundles
 * apart from the copy of tlob whose watchdog runs, keeps what the watchdog reported while the
 * thread was held when it saves then (a signal handed over, `process.exit()` inside the window).
 */
export const HELD_VIOLATION_KEY = 'tlob.watchdog.heldViolation';

/**
 * The file, in the run's data directory, that `tlob run` appends each signal it receives to: one
 * line each, the signal's name, whom it reached (the pid it was passed on to, or `g` and the
 * process group of the terminal's foreground, for one typed there: Ctrl-C reaches every process of
 * that group) and when (epoch ms): a process started later was not there to get it. A process of
 * the program appends `a` and its pid instead when the first signal of a name reaches it by itself
 * (`signalAck`): one sent to the whole process group, which `tlob run` then does not pass on again.
 */
export const RUN_SIGNALS_FILE = 'signals';

/** What a process's line in `RUN_SIGNALS_FILE` begins with when `signal` reached it by itself (the time follows). */
export function signalAck(signal: string, pid: number): string {
  return `${signal} a${pid}`;
}

/** What is registered at `RUN_SIGNALS_KEY`. */
export interface RunSignals {
  /** The file `tlob run` appends each signal it receives to (`RUN_SIGNALS_FILE`). */
  readonly file: string;
  /**
   * Takes a signal; a second call for the same signal does nothing. `handedOver`: called by the
   * watchdog, which then ends the process by the signal itself when this returns true (a process
   * ended inside the inspector's evaluation would leave its session connected).
   */
  take(signal: string, handedOver?: boolean): boolean;
}

/**
 * The fields of `/proc/self/stat` after the command name (which is in parentheses and may hold
 * spaces): `[2]` is the process group, `[5]` the foreground group of the controlling terminal.
 * Undefined where it cannot be read (not Linux).
 */
export function procStat(): string[] | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
