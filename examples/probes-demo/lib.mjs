// A module for examples/probes-demo/specs.mjs, probed by a spec before it is imported.
export function slowSum(n) {
  const end = performance.now() + 8;
  while (performance.now() < end) {
    // busy
  }
  return (n * (n + 1)) / 2;
}

export default class Cache {
  async get(key) {
    await new Promise((resolve) => setTimeout(resolve, 12));
    return `value of ${key}`;
  }
}
