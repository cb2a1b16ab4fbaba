/**
 * A log-linear histogram of non-negative integers (nanoseconds), kept in JS: every power of two
 * is split into 256 linear buckets, so a recorded value is known to within 0.4% (values below 256
 * exactly). Recording is a few arithmetic operations and one typed-array increment, where a
 * `perf_hooks` histogram's `record()` is a native call with argument validation (~17–30 ns):
 * with four distributions per window that difference was a fifth of a monitored synchronous call
 * (see docs/benchmarks.md). Octaves are allocated on first use.
 */
const SUB_BITS = 8;
const SUB = 1 << SUB_BITS;
const TWO_32 = 2 ** 32;
/** `SCALE[e] = 2 ** (e - SUB_BITS)`: the bucket width in octave `e`. */
const SCALE = Array.from({ length: 64 }, (_, e) => 2 ** (e - SUB_BITS));
/** Values below this round to at most 2^31 - 1, the largest 32-bit integer. */
const INT32_ROUND_LIMIT = 2 ** 31 - 0.5;
/** Octaves of values at or above 2^32, the last of the 64 a double can reach. */
const OCTAVES = 64;

export class LogLinearHistogram {
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  private sum = 0;
  /** Values that round to 0 (most windows never wait; synchronous ones never sleep): counted only. */
  private zeros = 0;
  /** `octaves[0]` holds 0..255 exactly; `octaves[e]` (e >= 8) holds [2^e, 2^(e+1)). */
  private octaves: (Uint32Array | undefined)[] = newOctaves();

  record(value: number): void {
    this.count++;
    if (value < 0.5) {
      this.zeros++;
      this.min = 0;
      return;
    }
    if (value < INT32_ROUND_LIMIT) {
      // the common case, below 2^31 - 1 once rounded (~2.1 s), in small-integer arithmetic: the
      // rounding is `Math.round`'s for a positive value, and the bucket is a shift (~2.5 times
      // faster than the double arithmetic `Math.round` leads to)
      const v = (value + 0.5) | 0;
      this.sum += v;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      let octave = 0;
      let index = v;
      if (v >= SUB) {
        octave = 31 - Math.clz32(v);
        index = (v >> (octave - SUB_BITS)) - SUB;
      }
      let buckets = this.octaves[octave];
      if (buckets === undefined) this.octaves[octave] = buckets = new Uint32Array(SUB);
      (buckets[index] as number)++;
      return;
    }
    this.recordLarge(Math.round(value));
  }

  /** `record` of a value of 2^31 - 1 or more, once rounded to `v`. */
  private recordLarge(v: number): void {
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const octave = v < TWO_32 ? 31 : 63 - Math.clz32(Math.floor(v / TWO_32));
    const index = Math.floor(v / (SCALE[octave] as number)) - SUB;
    let buckets = this.octaves[octave];
    if (buckets === undefined) this.octaves[octave] = buckets = new Uint32Array(SUB);
    (buckets[index] as number)++;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value at percentile `p` (0–100): the upper edge of the bucket holding that rank, capped at `max`. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (rank <= this.zeros) return 0;
    let seen = this.zeros;
    for (let octave = 0; octave < this.octaves.length; octave++) {
      const buckets = this.octaves[octave];
      if (buckets === undefined) continue;
      for (let i = 0; i < SUB; i++) {
        seen += buckets[i] as number;
        if (seen >= rank) {
          const upper = octave === 0 ? i : (SUB + i + 1) * (SCALE[octave] as number) - 1;
          return Math.min(Math.max(upper, this.min), this.max);
        }
      }
    }
    return this.max;
  }

  /** The values of this histogram and of `other`: a new histogram, or this one when `other` is empty. */
  plus(other: LogLinearHistogram): LogLinearHistogram {
    if (other.count === 0) return this;
    const sum = new LogLinearHistogram();
    sum.count = this.count + other.count;
    sum.min = Math.min(this.min, other.min);
    sum.max = Math.max(this.max, other.max);
    sum.sum = this.sum + other.sum;
    sum.zeros = this.zeros + other.zeros;
    for (let octave = 0; octave < OCTAVES; octave++) {
      const mine = this.octaves[octave];
      const theirs = other.octaves[octave];
      if (mine === undefined && theirs === undefined) continue;
      const buckets = new Uint32Array(SUB);
      for (let i = 0; i < SUB; i++) buckets[i] = (mine?.[i] ?? 0) + (theirs?.[i] ?? 0);
      sum.octaves[octave] = buckets;
    }
    return sum;
  }

  /** The values of this histogram and `n` zeros: a new histogram, or this one when `n` is 0. */
  withZeros(n: number): LogLinearHistogram {
    if (n === 0) return this;
    const zeros = new LogLinearHistogram();
    zeros.count = zeros.zeros = n;
    zeros.min = 0;
    return this.plus(zeros);
  }

  reset(): void {
    this.count = this.sum = this.max = this.zeros = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.octaves = newOctaves();
  }
}

/** The octaves of an empty histogram: a slot for each, allocated on first use. */
function newOctaves(): (Uint32Array | undefined)[] {
  return new Array<Uint32Array | undefined>(OCTAVES).fill(undefined);
}
