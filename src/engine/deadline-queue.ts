import { type Clock, currentClock } from './clock.js';

/** Something with a deadline: a monitor instance whose clock invariant is armed. */
export interface Deadlined {
  /** Absolute deadline on the monitors' clock (`nowNs()`). */
  deadlineNs: number;
  /** Position in the queue's heap, -1 when not queued. Owned by the queue. */
  heapIndex: number;
  /** Called by the queue once the deadline has passed (checked against the clock, never early). */
  expire(now: number): void;
}

/**
 * All deadlines of this thread in one binary min-heap, served by one unref'd timer armed for the
 * earliest. The timer is re-armed lazily: a new deadline later than the armed one leaves it alone
 * (the timer re-arms itself when it fires), so a stream of windows with equal budgets creates about
 * one timer per budget period, not one per window. Time and the timer come from the current
 * `Clock`.
 */
export class DeadlineQueue {
  private readonly heap: Deadlined[] = [];
  /** The armed timer's handle and the clock it was scheduled on. */
  private timer: unknown;
  private timerClock: Clock | undefined;
  /** Deadline the timer is armed for, +Infinity when disarmed. */
  private armedNs = Number.POSITIVE_INFINITY;
  private readonly fire = () => this.onTimer();

  get size(): number {
    return this.heap.length;
  }

  /** Adds an item, or moves it if it is already queued. */
  insert(item: Deadlined): void {
    if (item.heapIndex >= 0) {
      this.siftUp(item.heapIndex);
      this.siftDown(item.heapIndex);
    } else {
      item.heapIndex = this.heap.length;
      this.heap.push(item);
      this.siftUp(item.heapIndex);
    }
    if (item.deadlineNs < this.armedNs) this.rearm(item.deadlineNs);
  }

  /** Removes an item if it is queued. The timer is left alone: it finds nothing and disarms. */
  remove(item: Deadlined): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const last = this.heap.pop() as Deadlined;
    if (i === this.heap.length) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  /** Cancels the armed timer and arms one on the current clock (after `useClock`). */
  reschedule(): void {
    this.disarm();
    if (this.heap.length > 0) this.rearm((this.heap[0] as Deadlined).deadlineNs);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timerClock?.cancel(this.timer);
    this.timer = undefined;
    this.armedNs = Number.POSITIVE_INFINITY;
  }

  private rearm(deadlineNs: number): void {
    this.disarm();
    this.armedNs = deadlineNs;
    // Node's timers run on a millisecond clock and may fire up to ~1 ms early against
    // performance.now(); onTimer re-checks and re-arms rather than report early.
    const clock = currentClock();
    const delayMs = Math.max(1, Math.ceil((deadlineNs - clock.now()) / 1e6));
    this.timerClock = clock;
    this.timer = clock.schedule(this.fire, delayMs);
  }

  private onTimer(): void {
    this.timer = undefined;
    this.armedNs = Number.POSITIVE_INFINITY;
    const now = currentClock().now();
    const heap = this.heap;
    while (heap.length > 0 && (heap[0] as Deadlined).deadlineNs <= now) {
      const item = heap[0] as Deadlined;
      this.remove(item);
      item.expire(now);
    }
    if (heap.length > 0) this.rearm((heap[0] as Deadlined).deadlineNs);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i] as Deadlined;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex] as Deadlined;
      if (parent.deadlineNs <= item.deadlineNs) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    heap[i] = item;
    item.heapIndex = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i] as Deadlined;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (heap[right] as Deadlined).deadlineNs < (heap[child] as Deadlined).deadlineNs)
        child = right;
      const c = heap[child] as Deadlined;
      if (c.deadlineNs >= item.deadlineNs) break;
      heap[i] = c;
      c.heapIndex = i;
      i = child;
    }
    heap[i] = item;
    item.heapIndex = i;
  }
}

/** The thread's deadline queue: every monitor of this thread shares its one timer. */
export const deadlines = new DeadlineQueue();
