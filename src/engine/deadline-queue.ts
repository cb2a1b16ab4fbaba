import { nowNs } from './clock.js';
import { runOutside } from './outside.js';

/** Something with a deadline: a monitor instance whose clock invariant is armed. */
export interface Deadlined {
  /** Absolute deadline on the `nowNs()` clock. */
  deadlineNs: number;
  /** Position in the queue's heap, -1 when not queued. Owned by the queue. */
  heapIndex: number;
  /** Called by the queue once the deadline has passed (checked against the clock, never early). */
  expire(now: number): void;
}

/** Told when the earliest deadline of the queue changes, and of each transition of its holder. */
export interface EarliestWatcher {
  /** The item with the earliest deadline is now `top` (undefined: the queue is empty). */
  earliest(top: Deadlined | undefined): void;
  /** The item with the earliest deadline changed state. */
  transition(top: Deadlined): void;
}

/**
 * All deadlines of this thread in one binary min-heap, served by one unref'd timer armed for the
 * earliest. The timer is re-armed lazily: a new deadline later than the armed one leaves it alone
 * (the timer re-arms itself when it fires), so a stream of windows with equal budgets creates about
 * one timer per budget period, not one per window.
 */
export class DeadlineQueue {
  private readonly heap: Deadlined[] = [];
  /** The watchdog's view of the queue (undefined while no watchdog watches this thread). */
  watcher: EarliestWatcher | undefined = undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Deadline the timer is armed for, +Infinity when disarmed. */
  private armedNs = Number.POSITIVE_INFINITY;
  private readonly fire = () => this.onTimer();
  private readonly arm = (delayMs: number) => {
    this.timer = setTimeout(this.fire, delayMs);
    this.timer.unref();
  };

  get size(): number {
    return this.heap.length;
  }

  /** Adds an item, or moves it if it is already queued. */
  insert(item: Deadlined): void {
    const top = this.heap[0];
    if (item.heapIndex >= 0) {
      this.siftUp(item.heapIndex);
      this.siftDown(item.heapIndex);
    } else {
      item.heapIndex = this.heap.length;
      this.heap.push(item);
      this.siftUp(item.heapIndex);
    }
    if (item.deadlineNs < this.armedNs) this.rearm(item.deadlineNs);
    if (this.watcher !== undefined && (this.heap[0] !== top || item === top))
      this.watcher.earliest(this.heap[0]);
  }

  /** Removes an item if it is queued. The timer is left alone: it finds nothing and disarms. */
  remove(item: Deadlined): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const last = this.heap.pop() as Deadlined;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.siftUp(i);
      this.siftDown(last.heapIndex);
    }
    if (i === 0 && this.watcher !== undefined) this.watcher.earliest(this.heap[0]);
  }

  private rearm(deadlineNs: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedNs = deadlineNs;
    // Node's timers run on a millisecond clock and may fire up to ~1 ms early against
    // performance.now(); onTimer re-checks and re-arms rather than report early.
    const delayMs = Math.max(1, Math.ceil((deadlineNs - nowNs()) / 1e6));
    runOutside(this.arm, delayMs); // created outside every window: its callback is nobody's continuation
  }

  private onTimer(): void {
    this.timer = undefined;
    this.armedNs = Number.POSITIVE_INFINITY;
    const now = nowNs();
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
