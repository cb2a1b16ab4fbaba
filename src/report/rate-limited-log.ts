import { currentClock } from '../clock.js';

/** Logs with lines suppressed and not yet counted: their counts are written at the latest at exit. */
const uncounted = new Set<RateLimitedLog>();
let exitHooked = false;

/**
 * A line writer that lets through at most `burst` lines per `intervalMs` and then says how many it
 * suppressed, when the interval ends or the process exits, whichever comes first (like the
 * kernel's printk_ratelimit). Times are milliseconds on the monitors' clock.
 */
export class RateLimitedLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly burst = 10,
    private readonly intervalMs = 1000,
    private readonly suppressedLine = (count: number) =>
      `tlob: ${count} violation line(s) suppressed by rate limit`,
  ) {}

  /** A line is being written: a line asked for by that write is not (see `line`). */
  private writing = false;

  /**
   * Writes `line` unless the current interval's burst is used up. Returns whether it wrote. A line
   * asked for while one is being written is left out, uncounted: the write itself caused it (a
   * budget put on `process.stderr.write` breaks with the line, whose own line would break it again).
   */
  line(line: string, now = currentClock().now() / 1e6): boolean {
    if (this.writing || !this.admit(now)) return false;
    this.writing = true;
    try {
      this.write(line);
    } finally {
      this.writing = false;
    }
    return true;
  }

  /**
   * Counts one line against the current interval's burst and returns whether it may be written; the
   * caller writes it itself (a line that is not a string, say). Suppressed lines are counted as
   * with `line`.
   */
  admit(now = currentClock().now() / 1e6): boolean {
    if (now - this.windowStart >= this.intervalMs) this.startInterval(now);
    if (this.written >= this.burst) {
      if (this.suppressed++ === 0) this.reportAtIntervalEnd(now);
      return false;
    }
    this.written++;
    return true;
  }

  private startInterval(now: number): void {
    this.windowStart = now;
    this.written = 0;
    this.writeCount();
  }

  /** Writes how many lines were suppressed since the count was last written, if any. */
  private writeCount(): void {
    if (this.suppressed === 0) return;
    const count = this.suppressed;
    this.suppressed = 0;
    uncounted.delete(this);
    this.write(this.suppressedLine(count));
  }

  /**
   * The count is written when the interval ends, even if no other line comes (an unref'd timer),
   * or at exit if that comes first (a process that ends within the interval).
   */
  private reportAtIntervalEnd(now: number): void {
    uncounted.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => {
        for (const log of uncounted) log.writeCount();
      });
    }
    const end = this.windowStart + this.intervalMs;
    const onEnd = () => {
      if (this.suppressed > 0 && this.windowStart + this.intervalMs === end) this.startInterval(end);
    };
    currentClock().schedule(onEnd, Math.max(1, end - now));
  }
}
