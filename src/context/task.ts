/**
 * What the context layer knows of a monitored call: a task that can be switched onto the JS
 * thread and off it. The tlob window implements it; the context layer only drives it.
 */
export interface Task {
  /** The enclosing task when this one was opened (the outer call), or undefined. */
  readonly parent: Task | undefined;
  /** False once the task stopped or stopped being monitored: it then ignores every call below. */
  readonly live: boolean;
  /**
   * No longer monitored (it broke its budget) while its call goes on: its continuations are not
   * accounted, but they are the call's own work, whose start is known as a task's would be.
   */
  readonly expired: boolean;
  /** True while the task waits on something not ready (it then needs to know when it became ready). */
  readonly sleeping: boolean;
  /** A continuation of the task starts on the thread; `readyNs` is when it became runnable. */
  switchIn(now: number, readyNs: number): void;
  /**
   * A continuation of the task starts right after its own last one ended, nothing else having run
   * between: the gap is the task's own (its `await`'s machinery, the hooks), counted as running.
   */
  resume(now: number): void;
  /** The continuation that ran ends. */
  switchOut(now: number): void;
}
