import { describeValue, TlobRangeError } from './errors.js';
import type { Violation } from './violation.js';

let push: (ring: ViolationRing<Violation>, record: Violation) => boolean;

/**
 * A bounded ring of violation records (the kernel's per-fd mmap ring): the producer never blocks
 * and never grows the buffer; when the ring is full a new record is dropped and counted
 * (drop-new, so the oldest, usually most telling, records stay). Read-only to its readers: only
 * the monitor that owns it writes, through `pushViolation`, which the package does not export.
 * `V`: the records its monitor writes.
 */
export class ViolationRing<V extends Violation = Violation> implements AsyncIterable<V> {
  #slots: (V | undefined)[];
  #head = 0;
  #tail = 0;
  #waiters: (() => void)[] = [];
  #dropped = 0;

  static {
    push = (ring, record) => ring.#push(record);
  }

  constructor(capacity = 1024) {
    this.#slots = new Array(checkCapacity(capacity));
  }

  /** Records dropped because the ring was full. */
  get dropped(): number {
    return this.#dropped;
  }

  get capacity(): number {
    return this.#slots.length;
  }

  /** Records waiting to be read. */
  get length(): number {
    return this.#head - this.#tail;
  }

  /**
   * Changes the capacity; records that do not fit any more are dropped and counted. A refused
   * capacity throws before the ring is touched.
   */
  resize(capacity: number): void {
    const slots = new Array(checkCapacity(capacity));
    const records = this.read();
    this.#slots = slots;
    this.#head = this.#tail = 0;
    for (const record of records) this.#push(record);
  }

  #push(record: V): boolean {
    if (this.#head - this.#tail >= this.#slots.length) {
      this.#dropped++;
      return false;
    }
    this.#slots[this.#head % this.#slots.length] = record;
    this.#head++;
    this.#waiters.shift()?.();
    return true;
  }

  /**
   * Takes up to `max` records (a whole number, 0 or more; all of them by default), oldest first,
   * without waiting. Returns `[]` when empty.
   */
  read(max = Number.POSITIVE_INFINITY): V[] {
    if (max !== Number.POSITIVE_INFINITY && !(Number.isInteger(max) && max >= 0)) {
      throw new TlobRangeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.ring.read: expected \`max\` to be a whole number of records (0 or more), got ${describeValue(max)}`,
      );
    }
    const out: V[] = [];
    while (this.#tail < this.#head && out.length < max) out.push(this.#take());
    return out;
  }

  /** Empties the ring and resets the `dropped` counter. */
  clear(): void {
    this.read();
    this.#dropped = 0;
  }

  /**
   * Yields records as they arrive; waits (without polling) while the ring is empty. It takes one
   * record per step, so a record stays in the ring until a consumer receives it: leaving the loop
   * loses nothing. Each new record wakes one waiting iterator, the one that has waited longest, so
   * iterators waiting side by side share the records; a woken iterator that finds the record
   * already read waits again.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<V> {
    for (;;) {
      if (this.#tail < this.#head) yield this.#take();
      else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #take(): V {
    const i = this.#tail % this.#slots.length;
    const record = this.#slots[i] as V;
    this.#slots[i] = undefined;
    this.#tail++;
    return record;
  }
}

/** Adds a record to `ring`; returns false (and counts it in `dropped`) when the ring is full. */
export function pushViolation<V extends Violation>(ring: ViolationRing<V>, record: V): boolean {
  return push(ring as unknown as ViolationRing<Violation>, record);
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) {
    throw new TlobRangeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.ring: expected \`capacity\` to be an integer from 1 to 16777216, got ${describeValue(capacity)}`,
    );
  }
  return capacity;
}
