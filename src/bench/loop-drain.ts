/** What `LoopDrain.race` resolves to when the event loop ran dry before the promise settled. */
export const DRAINED: unique symbol = Symbol('tlob.bench.drained');

/**
 * Sees Node's event loop run dry (`'beforeExit'`) while a run awaits a promise: nothing is left
 * that could settle it (a callback never called, a promise never resolved), and without this the
 * process would exit in the middle of the run, with code 0 and no results. Raced against what the
 * run awaits, it lets the run go on past that promise. A promise that waits on something still
 * alive (an open socket, a ref'd timer) keeps the loop busy and is not seen.
 */
export class LoopDrain {
  private wake: () => void = () => {};
  private drained = this.arm();
  private readonly onBeforeExit = (): void => {
    const wake = this.wake;
    this.drained = this.arm();
    wake();
  };

  constructor() {
    process.on('beforeExit', this.onBeforeExit);
  }

  /** `promise`'s value, or `DRAINED` when the event loop ran dry before it settled. */
  race<T>(promise: PromiseLike<T>): Promise<T | typeof DRAINED> {
    return Promise.race([promise, this.drained]);
  }

  /** Stops watching. */
  stop(): void {
    process.off('beforeExit', this.onBeforeExit);
  }

  private arm(): Promise<typeof DRAINED> {
    return new Promise((resolve) => {
      this.wake = () => resolve(DRAINED);
    });
  }
}

/** The error of a task whose function or hook returned a promise that can never settle. */
export function unsettledError(what: string): Error {
  const message =
    `${what} returned a promise that never settled: Node's event loop ran dry while the task waited ` +
    'on it (a callback never called, a promise never resolved)';
  // the stack would point into the harness, not at the promise: the message is the whole story
  return Object.assign(new Error(message), { stack: `Error: ${message}` });
}
