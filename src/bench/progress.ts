import { formatNs } from '../index.js';

/** How often the progress line is redrawn, in milliseconds. */
const EVERY_MS = 250;

/**
 * A one-line progress report on stderr for long runs (`\r`-redrawn), shown only when stderr is a
 * TTY; elsewhere every method does nothing.
 */
export class Progress {
  /** `performance.now()` at which the line may next be redrawn. */
  next = Number.POSITIVE_INFINITY;
  private shown = false;

  constructor(readonly enabled: boolean) {}

  /** Starts a task's phase: the first redraw comes after a quarter of a second. */
  begin(now: number): void {
    if (this.enabled) this.next = now + EVERY_MS;
  }

  /** Redraws the line (called by the loop once `now >= next`); `task` is its `bench › task` key. */
  draw(now: number, task: string, phase: string, samples: number, meanNs: number): void {
    this.next = now + EVERY_MS;
    const line = `tlob bench: ${task} (${phase}) ${samples} samples, mean ${formatNs(meanNs)}`;
    process.stderr.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }

  /** Clears the line, if one was drawn. */
  end(): void {
    this.next = Number.POSITIVE_INFINITY;
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}
