import { cwdRequire } from './cwd-require.js';
import type { Slot } from './property-path.js';

/**
 * For a slot that is a getter (CommonJS compiled by TypeScript, Babel or esbuild re-exports every
 * name through a getter: `Object.defineProperty(exports, 'f', { get: () => m.f })`),
 * finds where the function really lives: the module in `require.cache` whose exports hold it as a
 * plain data property. Patching that property makes the getter return the wrapper. Returns
 * undefined when the getter does not return a function or no single such module exists.
 */
export function reexportedSlot(slot: Slot): Slot | undefined {
  const getter = slot.descriptor.get;
  if (getter === undefined) return undefined;
  let fn: unknown;
  try {
    fn = Reflect.apply(getter, slot.holder, []);
  } catch {
    return undefined;
  }
  if (typeof fn !== 'function') return undefined;
  let found: Slot | undefined;
  // require.cache is one object for the process, whichever require reads it
  const cache = cwdRequire().cache;
  for (const module of Object.values(cache)) {
    const exports = module?.exports as Record<string, unknown> | undefined;
    if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) continue;
    for (const key of Object.keys(exports)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(exports, key);
      if (descriptor === undefined || !('value' in descriptor) || descriptor.value !== fn) continue;
      if (found !== undefined && (found.holder !== exports || found.key !== key)) return undefined; // ambiguous
      found = { holder: exports, key, descriptor, inherited: false };
    }
  }
  return found;
}
