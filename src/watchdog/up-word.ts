import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

/**
 * The word by which a worker thread learns that a watchdog thread listens for joins, without a
 * message ever reaching the worker thread (its first message event would load Node's undici: see
 * `start` in `watchdog.ts`). One `Int32` of a `SharedArrayBuffer` that the main thread makes when
 * it first turns the watchdog on and hands down as environment data, which every thread passes on
 * to the worker threads it starts (nested ones too). It holds the generation of the watchdog thread
 * that listens (a positive number), minus that generation while that thread is starting, and 0
 * while none runs. A worker thread waits on it with `Atomics.waitAsync`, which wakes nothing
 * while the word stays the same and does not hold the thread open: Node 22, 24 and 26 do not count
 * a pending wait as keeping the loop alive (the `tlob run` tests of worker threads that end by
 * themselves would hang if a version did).
 */
const KEY = 'tlob.watchdog.up';

/** Index of the word in its array. */
export const UP = 0;

let made: Int32Array | undefined;

/** The main thread's word: made and handed down to the worker threads started from now on, once. */
export function mainUpWord(): Int32Array {
  if (made === undefined) {
    made = new Int32Array(new SharedArrayBuffer(4));
    setEnvironmentData(KEY, made.buffer);
  }
  return made;
}

/**
 * A worker thread's word: the one the main thread handed down (to it or to the thread that started
 * it) with the watchdog on; undefined for a worker thread started before that.
 */
export function inheritedUpWord(): Int32Array | undefined {
  const buffer = getEnvironmentData(KEY);
  return buffer instanceof SharedArrayBuffer ? new Int32Array(buffer) : undefined;
}

/** Sets the word (the main thread: `-generation` when it starts a watchdog thread, 0 when it ends it) and wakes the threads waiting on it. */
export function setUpWord(word: Int32Array, value: number): void {
  Atomics.store(word, UP, value);
  Atomics.notify(word, UP);
}
