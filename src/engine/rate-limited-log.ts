/**
 * A line writer that lets through at most `burst` lines per `intervalMs` and then says how many it
 * suppressed, the first time it writes again (like the kernel's printk_ratelimit).
 */
export class RateLimitedLog {
  private windowStart = 0;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly burst = 10,
    private readonly intervalMs = 1000,
  ) {}

  /** Writes `line` unless the current interval's burst is used up. Returns whether it wrote. */
  line(line: string, now = Date.now()): boolean {
    if (now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      this.written = 0;
      if (this.suppressed > 0) {
        this.write(`tlob: ${this.suppressed} violation line(s) suppressed by rate limit`);
        this.suppressed = 0;
      }
    }
    if (this.written >= this.burst) {
      this.suppressed++;
      return false;
    }
    this.written++;
    this.write(line);
    return true;
  }

  /** Lines held back since the last one written. */
  get pending(): number {
    return this.suppressed;
  }
}
