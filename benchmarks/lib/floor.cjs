// What the floor variants of the benchmarks (http-server.cjs, async-call.mjs) keep per monitored
// request or call, as plainly as it can be done: a deadline heap and a histogram. CommonJS, so that
// the CommonJS server and the ES module suites share it.
'use strict';

/** A binary min-heap of deadlines, the keys beside the items; an item keeps its `heapIndex`. */
function floorHeap() {
  const items = [];
  let keys = new Float64Array(1024);
  const place = (i, item, key) => {
    items[i] = item;
    keys[i] = key;
    item.heapIndex = i;
  };
  const siftUp = (i, item, key) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= key) break;
      place(i, items[p], keys[p]);
      i = p;
    }
    place(i, item, key);
    return i;
  };
  const siftDown = (i, item, key) => {
    const n = items.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1] < keys[c]) c++;
      if (keys[c] >= key) break;
      place(i, items[c], keys[c]);
      i = c;
    }
    place(i, item, key);
  };
  const insert = (item, key) => {
    if (items.length === keys.length) {
      const k = new Float64Array(keys.length * 2);
      k.set(keys);
      keys = k;
    }
    items.push(undefined);
    siftUp(items.length - 1, item, key);
  };
  const remove = (item) => {
    const i = item.heapIndex;
    item.heapIndex = -1;
    const last = items.pop();
    const n = items.length;
    if (i < n) siftDown(siftUp(i, last, keys[n]), last, keys[n]);
  };
  return { items, insert, remove };
}

/** A log-linear histogram: 256 linear buckets per power of two. */
function floorHistogram() {
  const octaves = Array.from({ length: 64 }, () => new Uint32Array(256));
  let count = 0;
  const record = (ns) => {
    count++;
    // rounded in 32-bit integer arithmetic, as tlob's histogram does (a request of 2.1 s or more
    // lands in the last bucket)
    const v = ns < 2147483647 ? (ns + 0.5) | 0 : 2147483647;
    if (v < 256) octaves[0][v]++;
    else {
      const e = 31 - Math.clz32(v);
      octaves[e][(v >> (e - 8)) - 256]++;
    }
  };
  return { record, count: () => count };
}

module.exports = { floorHeap, floorHistogram };
