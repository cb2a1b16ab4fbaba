import { copyReflectMetadata } from './reflect-metadata.js';

/** Runs one observed call of `original`; `newTarget` is undefined for a plain call. */
export interface CallRunner {
  invoke(
    original: Function,
    thisArg: unknown,
    args: ArrayLike<unknown>,
    newTarget: Function | undefined,
  ): unknown;
}

/**
 * The part of a probe the wrapper reads on every call. `active` is the one check of the hot path:
 * false (detached, or the monitor disabled) means the original runs through `Reflect.apply`.
 * While active, each call goes to `runner` (read once, when the wrapper is made): the probe
 * itself, or what it hands its calls to, so that the wrapper and the runner are the only frames
 * between a caller and the original.
 */
export interface WrapperCore {
  readonly active: boolean;
  readonly runner: CallRunner;
}

const SKIPPED_KEYS = new Set<PropertyKey>(['prototype', '__original', '__unwrap', '__wrapped']);

/**
 * Builds the function that takes the original's place. It behaves as the original for callers:
 * the same `this`, arguments, return value and thrown error; `new` constructs the original with
 * `new.target` mapped back from the wrapper to the original; the same `name`, `length`, own
 * properties (writable ones forwarded to the original), `prototype` object and [[Prototype]]. A function that is not a constructor (arrow,
 * method, async function) gets a wrapper that is not one either and has no `prototype`.
 */
export function createWrapper(core: WrapperCore, original: Function): Function {
  const runner = core.runner;
  const constructible = isConstructor(original);
  let wrapper: Function;
  // The wrappers pass `arguments` on instead of a rest array: no array is built per call.
  if (constructible) {
    // biome-ignore-start lint/complexity/noArguments: hot path, see above
    wrapper = function (this: unknown): unknown {
      if (!core.active) {
        return new.target === undefined
          ? Reflect.apply(original, this, arguments)
          : Reflect.construct(original, arguments, new.target === wrapper ? original : new.target);
      }
      return runner.invoke(original, this, arguments, new.target === wrapper ? original : new.target);
    };
  } else {
    wrapper = {
      wrapper(this: unknown): unknown {
        if (!core.active) return Reflect.apply(original, this, arguments);
        return runner.invoke(original, this, arguments, undefined);
      },
    }.wrapper;
    // biome-ignore-end lint/complexity/noArguments: hot path, see above
  }
  copyFunctionShape(original, wrapper);
  return wrapper;
}

/** An accessor that reads and writes `original[key]`, with the data property's other attributes. */
function forwarded(original: Function, key: PropertyKey, descriptor: PropertyDescriptor): PropertyDescriptor {
  return {
    get: () => Reflect.get(original, key),
    set: (value: unknown) => {
      Reflect.set(original, key, value);
    },
    enumerable: descriptor.enumerable,
    configurable: descriptor.configurable,
  };
}

/** True when `fn` can be called with `new` (tested without calling it). */
function isConstructor(fn: Function): boolean {
  try {
    Reflect.construct(String, [], fn);
    return true;
  } catch {
    return false;
  }
}

/**
 * Gives `wrapper` the own properties, `prototype` and [[Prototype]] of `original`. A writable data
 * property (lodash's `memoize(fn).cache`, a counter a function keeps on itself) becomes an accessor
 * of the original's: a write through the wrapper reaches the original, which reads its own property,
 * and a read sees the original's current value. `name`, `length`, read-only properties and
 * accessors are copied as they are.
 */
function copyFunctionShape(original: Function, wrapper: Function): void {
  for (const key of Reflect.ownKeys(original)) {
    if (SKIPPED_KEYS.has(key)) continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(original, key);
    if (descriptor === undefined) continue;
    if (descriptor.writable === true && key !== 'name' && key !== 'length') {
      Reflect.defineProperty(wrapper, key, forwarded(original, key, descriptor));
    } else Reflect.defineProperty(wrapper, key, descriptor);
  }
  const prototype = Reflect.getOwnPropertyDescriptor(original, 'prototype');
  if (prototype !== undefined) {
    // A function's own `prototype` is non-configurable but writable: set the value, then match
    // `writable` (a class's `prototype` is read-only).
    Reflect.defineProperty(wrapper, 'prototype', { value: prototype.value });
    if (prototype.writable === false) Reflect.defineProperty(wrapper, 'prototype', { writable: false });
  }
  Reflect.setPrototypeOf(wrapper, Reflect.getPrototypeOf(original));
  copyReflectMetadata(original, wrapper);
}
