import { describe, expect, it } from 'vitest';
import { nowNs } from '../../src/clock.js';
import { type Deadlined, DeadlineQueue } from '../../src/engine/deadline-queue.js';

interface Item extends Deadlined {
  deadlineNs: number;
  id: number;
  expiredAt: number;
}

describe('deadline queue', () => {
  it('expires items in deadline order, each at or after its deadline, and never a removed or moved-away one', async () => {
    const queue = new DeadlineQueue();
    const expired: Item[] = [];
    const t0 = nowNs();
    const items: Item[] = Array.from({ length: 3000 }, (_, id) => ({
      id,
      deadlineNs: t0 + 5e6 + Math.random() * 20e6,
      heapIndex: -1,
      expiredAt: -1,
      expire(now: number) {
        this.expiredAt = now;
        expired.push(this);
      },
    }));
    for (const item of items) queue.insert(item);
    expect(queue.size).toBe(3000);
    const removed = items.filter((item) => item.id % 3 === 0);
    for (const item of removed) queue.remove(item);
    queue.remove(removed[0] as Item); // twice: nothing
    const moved = items.filter((item) => item.id % 3 === 1 && item.id % 2 === 0);
    for (const item of moved) {
      item.deadlineNs = t0 + 5e6 + Math.random() * 20e6; // earlier or later
      queue.insert(item);
    }
    expect(queue.size).toBe(2000);
    while (queue.size > 0) await new Promise((r) => setTimeout(r, 5));
    expect(expired).toHaveLength(2000);
    for (let i = 1; i < expired.length; i++)
      expect((expired[i] as Item).deadlineNs).toBeGreaterThanOrEqual((expired[i - 1] as Item).deadlineNs);
    for (const item of expired) expect(item.expiredAt).toBeGreaterThanOrEqual(item.deadlineNs);
    for (const item of removed) expect(item.expiredAt).toBe(-1);
  });
});
