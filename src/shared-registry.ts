/**
 * The process-wide object at `globalThis[key]`, created by `create` for the first copy of tlob
 * that asks: what every copy of the package in the process must share (probes on a slot, module
 * targets, spec probes, the copies' public values, the bench files' registry). `key` is a
 * `Symbol.for('tlob.…')`. The property is not enumerable and cannot be replaced.
 */
export function sharedRegistry<T>(key: symbol, create: () => T): T {
  const global = globalThis as Record<symbol, T | undefined>;
  let found = global[key];
  if (found === undefined) {
    found = create();
    Object.defineProperty(globalThis, key, { value: found });
  }
  return found;
}
