import { type Clock, currentClock } from '../clock.js';

/** Something with a deadline: a monitor instance whose clock invariant is armed. */
export interface Deadlined {
  /** Absolute deadline on the monitors' clock (`nowNs()`), read when the item is inserted. */
  readonly deadlineNs: number;
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
 * All deadlines of this thread in one min-heap, served by one unref'd timer armed for the
 * earliest. The timer is re-armed lazily: a new deadline later than the armed one leaves it alone
 * (the timer re-arms itself when it fires), so a stream of windows with equal budgets creates about
 * one timer per budget period, not one per window. Time and the timer come from the current
 * `Clock`.
 *
 * The heap's keys (the deadlines) are kept in a `Float64Array` beside the items, so that sifting
 * compares numbers in one block of memory instead of reading a field of an object scattered on the
 * heap at each step: with 100,000 deadlines queued, that is what keeps insert and remove cheap.
 * The heap is 4-ary: what costs in a move is the write of `heapIndex` into each item it passes,
 * one object scattered in memory per level, and four children per node halve the levels (9
 * instead of 17 at 100,000) for a few more comparisons of adjacent keys.
 */
export class DeadlineQueue {
  private readonly items: Deadlined[] = [];
  private keys = new Float64Array(1024);
  /** The watchdog's view of the queue (undefined while no watchdog watches this thread). */
  watcher: EarliestWatcher | undefined = undefined;
  /** The armed timer's handle and the clock it was scheduled on. */
  private timer: unknown;
  private timerClock: Clock | undefined;
  /** Deadline the timer is armed for, +Infinity when disarmed. */
  private armedNs = Number.POSITIVE_INFINITY;
  private readonly fire = () => this.onTimer();

  get size(): number {
    return this.items.length;
  }

  /** The items queued now, in heap order (not by deadline); not to be changed. */
  queued(): readonly Deadlined[] {
    return this.items;
  }

  /** Adds an item, or moves it if it is already queued. */
  insert(item: Deadlined): void {
    const key = item.deadlineNs;
    const top = this.items[0];
    if (item.heapIndex >= 0) {
      const i = item.heapIndex;
      this.keys[i] = key;
      this.siftDown(this.siftUp(i, item, key), item, key);
    } else {
      const i = this.items.length;
      if (i === this.keys.length) this.grow();
      this.items.push(item);
      this.siftUp(i, item, key);
    }
    if (key < this.armedNs) this.rearm(key);
    if (this.watcher !== undefined && (this.items[0] !== top || item === top))
      this.watcher.earliest(this.items[0]);
  }

  /** Removes an item if it is queued. The timer is left alone: it finds nothing and disarms. */
  remove(item: Deadlined): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const items = this.items;
    const last = items.pop() as Deadlined;
    const n = items.length;
    if (i < n) {
      const key = this.keys[n] as number;
      this.siftDown(this.siftUp(i, last, key), last, key);
    }
    if (i === 0 && this.watcher !== undefined) this.watcher.earliest(items[0]);
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
  }

  /**
   * Expires now every item whose deadline passed, as the timer would: for a thread that is about
   * to end (its exit, a signal that ends it), whose timer will never run. A thread held past a
   * deadline until then would otherwise end with those windows over budget and never reported.
   */
  expireDue(): void {
    this.disarm();
    this.onTimer();
  }

  /** Cancels the armed timer and arms one on the current clock (after `useClock`). */
  reschedule(): void {
    this.disarm();
    if (this.items.length > 0) this.rearm(this.keys[0] as number);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timerClock?.cancel(this.timer);
    this.timer = undefined;
    this.armedNs = Number.POSITIVE_INFINITY;
  }

  private rearm(deadlineNs: number): void {
    // the thread's queue with deadlines in it: the one the end of the thread expires (another
    // copy of tlob in the process has its own queue, unused while it shares this one's monitor)
    if (!expireDueShared && this === deadlines) shareExpireDue();
    this.disarm();
    this.armedNs = deadlineNs;
    // Node's timers run on a millisecond clock: a delay rounded up from the distance may fire up
    // to ~1 ms early against performance.now(), and onTimer then finds nothing due and re-arms
    // (one more millisecond late). A clock that knows the timers' clock gives the delay that fires
    // at its first tick past the deadline.
    const clock = currentClock();
    const aligned = clock.delayUntil === undefined ? Number.NaN : clock.delayUntil(deadlineNs);
    const delayMs = aligned >= 1 ? aligned : Math.max(1, Math.ceil((deadlineNs - clock.now()) / 1e6));
    this.timerClock = clock;
    this.timer = clock.schedule(this.fire, delayMs);
  }

  /**
   * Expires every item whose deadline passed. The clock is read for each: expiring a burst of
   * items takes time, and each must be expired (and its lateness known) at its own moment.
   */
  private onTimer(): void {
    this.timer = undefined;
    this.armedNs = Number.POSITIVE_INFINITY;
    const items = this.items;
    const clock = currentClock();
    let now = clock.now();
    while (items.length > 0 && (this.keys[0] as number) <= now) {
      const item = items[0] as Deadlined;
      this.remove(item);
      item.expire(now);
      now = clock.now();
    }
    if (items.length > 0) this.rearm(this.keys[0] as number);
  }

  /** Moves `item` (key `key`, to be placed at `i`) up to its place; returns where it ended. */
  private siftUp(i: number, item: Deadlined, key: number): number {
    const items = this.items;
    const keys = this.keys;
    while (i > 0) {
      const parentIndex = (i - 1) >> 2;
      const parentKey = keys[parentIndex] as number;
      if (parentKey <= key) break;
      const parent = items[parentIndex] as Deadlined;
      items[i] = parent;
      keys[i] = parentKey;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    keys[i] = key;
    item.heapIndex = i;
    return i;
  }

  /** Moves `item` (key `key`, at `i`) down to its place. */
  private siftDown(i: number, item: Deadlined, key: number): void {
    const items = this.items;
    const keys = this.keys;
    const n = items.length;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // the earliest of up to four children, compared in the key array alone
      let child = first;
      let childKey = keys[first] as number;
      const end = Math.min(first + 4, n);
      for (let c = first + 1; c < end; c++) {
        const k = keys[c] as number;
        if (k < childKey) {
          child = c;
          childKey = k;
        }
      }
      if (childKey >= key) break;
      const c = items[child] as Deadlined;
      items[i] = c;
      keys[i] = childKey;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    keys[i] = key;
    item.heapIndex = i;
  }
}

/** The thread's deadline queue: every monitor of this thread shares its one timer. */
export const deadlines = new DeadlineQueue();

/**
 * `globalThis[EXPIRE_DUE]`: `deadlines.expireDue` of the copy of tlob whose queue holds the
 * thread's deadlines, for `tlob run`'s collector, which its preload bundles apart.
 */
export const EXPIRE_DUE = Symbol.for('tlob.deadlines.expireDue');
/**
 * `globalThis[QUEUED]`: the items of that queue now (the windows in flight), for the same
 * collector, which names the probes no call came through and must not count those of a call
 * still running.
 */
export const QUEUED = Symbol.for('tlob.deadlines.queued');
let expireDueShared = false;

/**
 * Offers `deadlines.expireDue` at `EXPIRE_DUE` and its items at `QUEUED`, unless a copy of tlob
 * loaded before did (once).
 */
function shareExpireDue(): void {
  expireDueShared = true;
  const shared = globalThis as Record<symbol, unknown>;
  shared[EXPIRE_DUE] ??= () => deadlines.expireDue();
  shared[QUEUED] ??= (): readonly Deadlined[] => deadlines.queued();
}
