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
 * The file, in the run's data directory, that `tlob run` appends each signal it receives to: one
 * line each, the signal's name and the pid it was passed on to, or `*` for one that reached every
 * process of the terminal's foreground group (Ctrl-C).
 */
export const RUN_SIGNALS_FILE = 'signals';

/** What is registered at `RUN_SIGNALS_KEY`. */
export interface RunSignals {
  /** The file `tlob run` appends each signal it receives to (`RUN_SIGNALS_FILE`). */
  readonly file: string;
  /** Takes a signal; a second call for the same signal does nothing. */
  take(signal: string): void;
}
