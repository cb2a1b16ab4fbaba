/**
 * The lanes of the report's timeline: an interval goes on the lowest lane whose last interval
 * ended at or before its start, or on a new lane. The lanes' ends are kept in a tree of minima
 * (each node holds the earliest end below it), so that finding that lane costs O(log lanes), not a
 * scan of the lanes (2·10⁸ comparisons for 20,000 windows in flight).
 */
export class LaneEnds {
  /** `tree[1]` is the root and `tree[i]`'s children are `tree[2i]`, `tree[2i + 1]`; lane `l` is leaf `leaves + l`. */
  private readonly tree: Float64Array;
  private readonly leaves: number;
  /** Lanes in use. */
  count = 0;

  /** `capacity`: the most lanes there may be (as many as intervals). */
  constructor(capacity: number) {
    let leaves = 1;
    while (leaves < capacity) leaves *= 2;
    this.leaves = leaves;
    this.tree = new Float64Array(2 * leaves).fill(Number.POSITIVE_INFINITY); // no lane: never free
  }

  /** Puts the interval `[startNs, endNs]` on its lane and returns the lane. */
  take(startNs: number, endNs: number): number {
    const tree = this.tree;
    let i = 1;
    if ((tree[1] as number) <= startNs) {
      // down the leftmost subtree holding a lane free at the start
      while (i < this.leaves) i = (tree[2 * i] as number) <= startNs ? 2 * i : 2 * i + 1;
    } else i = this.leaves + this.count++;
    const lane = i - this.leaves;
    tree[i] = endNs;
    for (i >>= 1; i >= 1; i >>= 1) tree[i] = Math.min(tree[2 * i] as number, tree[2 * i + 1] as number);
    return lane;
  }
}
