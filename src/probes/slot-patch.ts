import shimmer from 'shimmer';
import { TlobError } from '../report/errors.js';
import type { Slot } from './property-path.js';

/** A wrapper installed in a slot, and how to put the slot back as it was. */
export interface SlotPatch {
  readonly slot: Slot;
  readonly wrapper: Function;
  /** True while the slot still holds our wrapper. */
  holdsWrapper(): boolean;
  /** Restores the original if the slot still holds our wrapper; returns whether it did. */
  restore(): boolean;
  /** Puts the wrapper back if the slot still holds what `restore` left there; returns whether it did. */
  reapply(): boolean;
}

/**
 * Puts `wrapper` in `slot`, keeping the property's attributes. `shimmer.wrap` installs it and marks
 * it the way other instrumentation expects (`__original`, `__wrapped`; not `__unwrap`, see
 * `markWrapper`), then the property gets its own attributes back (shimmer leaves it writable and
 * configurable): that covers own configurable properties, writable or not, and inherited methods
 * (shadowed by an own property that keeps the inherited one's enumerability). A writable but
 * non-configurable property cannot be redefined, which is what shimmer does, so there the wrapper
 * is assigned and marked here, with the same markers. Getters and frozen slots are refused with
 * `ERR_TLOB_NOT_PATCHABLE`.
 */
export function patchSlot(slot: Slot, wrapper: Function, label: string, caller: string): SlotPatch {
  checkPatchable(slot, label, caller);
  const { holder, key, descriptor, inherited } = slot;
  const original = descriptor.value as Function;
  if (inherited || descriptor.configurable === true) {
    shimmer.wrap(holder as Record<PropertyKey, any>, key as string, () => wrapper as any);
    Reflect.deleteProperty(wrapper, '__unwrap'); // see `markWrapper`
    const own = inherited
      ? { value: wrapper, writable: true, enumerable: descriptor.enumerable ?? false, configurable: true }
      : { ...descriptor, value: wrapper };
    if (!Reflect.defineProperty(holder, key, own))
      throw notPatchable(caller, label, 'could not be redefined');
  } else {
    markWrapper(wrapper, original);
    if (!Reflect.set(holder, key, wrapper)) throw notPatchable(caller, label, 'could not be assigned');
  }
  const holdsWrapper = () => Reflect.getOwnPropertyDescriptor(holder, key)?.value === wrapper;
  return {
    slot,
    wrapper,
    holdsWrapper,
    restore() {
      if (!holdsWrapper()) return false;
      if (inherited) return Reflect.deleteProperty(holder, key);
      if (descriptor.configurable === true) return Reflect.defineProperty(holder, key, descriptor);
      return Reflect.set(holder, key, original);
    },
    reapply() {
      const own = Reflect.getOwnPropertyDescriptor(holder, key);
      if (inherited) {
        if (own !== undefined || Reflect.get(holder, key) !== original) return false;
        return Reflect.defineProperty(holder, key, {
          value: wrapper,
          writable: true,
          enumerable: descriptor.enumerable ?? false,
          configurable: true,
        });
      }
      if (own === undefined || own.value !== original) return false;
      if (descriptor.configurable === true)
        return Reflect.defineProperty(holder, key, { ...descriptor, value: wrapper });
      return Reflect.set(holder, key, wrapper);
    },
  };
}

/**
 * Throws `ERR_TLOB_NOT_PATCHABLE` when `patchSlot` cannot put a wrapper in `slot`. `namespaceAdvice`
 * says what to do instead when the slot is an export of an ES module namespace (by default: attach
 * by module specifier).
 */
export function checkPatchable(
  slot: Slot,
  label: string,
  caller: string,
  namespaceAdvice?: () => string,
): void {
  const { holder, descriptor, inherited } = slot;
  if (!('value' in descriptor)) {
    throw notPatchable(caller, label, 'is an accessor (getter/setter) property, not a function value');
  }
  if ((holder as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module') {
    const advice = namespaceAdvice?.() ?? 'attach by module specifier instead';
    throw notPatchable(
      caller,
      label,
      `is an export of an ES module namespace, which is read-only; ${advice}`,
    );
  }
  if (inherited && !Object.isExtensible(holder)) {
    throw notPatchable(caller, label, 'is inherited by a non-extensible object');
  }
  if (!inherited && descriptor.configurable !== true && descriptor.writable !== true) {
    throw notPatchable(caller, label, 'is read-only and non-configurable (a frozen object?)');
  }
}

/**
 * The markers `shimmer.wrap` sets, for the one slot it cannot patch (writable, non-configurable),
 * but `__unwrap`, which no wrapper of tlob's has: OpenTelemetry's instrumentations take a function
 * with all three markers for one of their own, and unwrap it before they wrap it (`_wrap`), which
 * would take the probe out without a word; without it they wrap the probe's wrapper, and both see
 * every call. A probe is taken off with `detach()`.
 */
function markWrapper(wrapper: Function, original: Function): void {
  const mark = (name: string, value: unknown) =>
    Reflect.defineProperty(wrapper, name, { value, writable: true, enumerable: false, configurable: true });
  mark('__original', original);
  mark('__wrapped', true);
}

function notPatchable(caller: string, label: string, why: string): TlobError {
  return new TlobError('ERR_TLOB_NOT_PATCHABLE', `${caller}: cannot attach to \`${label}\`: it ${why}`);
}
