import { closeSync, openSync, writeSync } from 'node:fs';

/** How much text is gathered before it is written (one `writeSync` per piece). */
const PIECE = 1 << 20;
/** A value of at most this many values in all, and no typed array, is written by `JSON.stringify` at once. */
const SMALL = 1 << 14;
/** How many elements of a big array are written by one `JSON.stringify` of their slice, when small. */
const SLICE = 4096;

/**
 * Whether `v` is walked here rather than handed to `JSON.stringify`: a plain object or array, or a
 * typed array, with no `toJSON` of its own (a `Buffer` has one).
 */
function walked(v: unknown): v is object {
  if (v === null || typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return false;
  if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * How many values `v` holds in all (itself included), or -1 when more than `budget` or when it
 * holds a typed array (which `JSON.stringify` would write as an object).
 */
function size(v: unknown, budget: number): number {
  if (!walked(v)) return 1;
  if (ArrayBuffer.isView(v)) return -1;
  let n = 1;
  const add = (item: unknown) => {
    const m = n <= budget ? size(item, budget - n) : -1;
    n = m < 0 ? budget + 1 : n + m;
  };
  // by index for an array: `for…in` would list a million keys before the first
  if (Array.isArray(v)) for (let i = 0; i < v.length && n <= budget; i++) add(v[i]);
  else for (const key in v) add((v as Record<string, unknown>)[key]);
  return n > budget ? -1 : n;
}

/**
 * Writes `value` as JSON to `file`, in pieces: the text is what `JSON.stringify(value)` gives, but
 * never held whole (a trace of a million records is a string of hundreds of megabytes, and the
 * copies `JSON.stringify` makes on the way). A typed array is written as an array of its numbers,
 * so that columns of numbers need no copy into plain arrays first. Plain objects and arrays are
 * walked; any other object (one with `toJSON`, a `Date`) is handed to `JSON.stringify`.
 */
export function writeJsonFile(file: string, value: unknown): void {
  const fd = openSync(file, 'w');
  try {
    const out = new JsonPieces(fd);
    out.value(value, false);
    out.flush();
  } finally {
    closeSync(fd);
  }
}

class JsonPieces {
  private text = '';

  constructor(private readonly fd: number) {}

  private put(s: string): void {
    this.text += s;
    if (this.text.length >= PIECE) this.flush();
  }

  flush(): void {
    if (this.text.length === 0) return;
    writeSync(this.fd, this.text);
    this.text = '';
  }

  /** Writes `v`; `inArray`: where `JSON.stringify` writes `null` for what it leaves out of an object. */
  value(v: unknown, inArray: boolean): void {
    const whole = this.whole(v);
    if (whole !== null) this.put(whole ?? (inArray ? 'null' : ''));
    else if (ArrayBuffer.isView(v)) this.numbers(v as unknown as ArrayLike<number>);
    else if (Array.isArray(v)) this.array(v);
    else this.object(v as Record<string, unknown>);
  }

  /**
   * The text of `v` when `JSON.stringify` writes it at once (what is not walked, or small), undefined
   * when it leaves it out; null when `v` is to be walked in pieces.
   */
  private whole(v: unknown): string | undefined | null {
    return !walked(v) || size(v, SMALL) >= 0 ? JSON.stringify(v) : null;
  }

  private array(v: unknown[]): void {
    this.put('[');
    for (let i = 0; i < v.length; ) {
      if (i > 0) this.put(',');
      // a run of small elements (the events of a trace), written by `JSON.stringify` at once
      let j = i;
      for (let used = 0; j < v.length && j - i < SLICE; j++) {
        const m = size(v[j], SMALL - used);
        if (m < 0) break;
        used += m;
      }
      if (j > i) {
        this.put(JSON.stringify(v.slice(i, j)).slice(1, -1));
        i = j;
      } else this.value(v[i++], true);
    }
    this.put(']');
  }

  private object(v: Record<string, unknown>): void {
    this.put('{');
    let first = true;
    for (const key of Object.keys(v)) {
      const item = v[key];
      const whole = this.whole(item);
      if (whole === undefined) continue; // left out, as `JSON.stringify` leaves it
      this.put(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      first = false;
      if (whole !== null) this.put(whole);
      else this.value(item, false);
    }
    this.put('}');
  }

  /** The numbers of a typed array, as `JSON.stringify` writes those of a plain array. */
  private numbers(a: ArrayLike<number>): void {
    this.put('[');
    const n = a.length;
    for (let from = 0; from < n; from += 65536) {
      const to = Math.min(n, from + 65536);
      let s = from > 0 ? ',' : '';
      for (let i = from; i < to; i++) {
        const x = a[i] as number;
        s += i > from ? `,${Number.isFinite(x) ? x : 'null'}` : `${Number.isFinite(x) ? x : 'null'}`;
      }
      this.put(s);
    }
    this.put(']');
  }
}
