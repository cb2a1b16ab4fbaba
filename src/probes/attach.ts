import { type InspectOptions, inspect } from 'node:util';
import { describeValue, TlobError, TlobTypeError } from '../report/errors.js';
import { emitTlobWarning } from '../report/tlob-warning.js';
import { type CallRunner, createWrapper, type WrapperCore } from './function-wrapper.js';
import {
  addModuleProbe,
  forgetModuleProbe,
  type ModuleProbeBinding,
  type ModuleRoot,
} from './module-registry.js';
import { parseModuleSpecifier } from './module-specifier.js';
import {
  type CallHandlers,
  type EndedProbeCall,
  ObservedCallRunner,
  type ProbeCall,
} from './observed-call.js';
import { findProbe, registerProbe, unregisterProbe } from './probe-registry.js';
import { resolveSlot, type Slot, splitPath } from './property-path.js';
import { reexportedSlot } from './reexport-slot.js';
import { checkPatchable, patchSlot, type SlotPatch } from './slot-patch.js';
import { warnOnce } from './warn-once.js';

/** The handlers and options of `attach`. */
export interface AttachHandlers<Priv = unknown> {
  /** Called at every call's entry, before the original runs. */
  entry?: (call: ProbeCall<Probe<Priv>>) => void;
  /** Called once per call when it ends (see `ProbeCall.end`). */
  ret?: (call: EndedProbeCall<Probe<Priv>>) => void;
  /**
   * Treat the last argument, when it is a function, as the call's completion callback: `ret` runs
   * when it is first called.
   * @default false
   */
  callback?: boolean;
  /**
   * Also attach every other own property of the object that holds the function (a module's
   * exports, a prototype) under which the same function is reachable, with the same wrapper, so
   * aliases keep their identity (`async.each === async.forEach`). Ignored for an inherited method
   * (the probe shadows it on one object) and for an ES module's exports (only the probed name can
   * be re-bound).
   * @default true
   */
  aliases?: boolean;
  /**
   * Probes with the same `monitor` key may not be attached twice to one function
   * (`ERR_TLOB_ALREADY_ATTACHED`); probes with different keys stack.
   * @default the pair of handlers
   */
  monitor?: unknown;
}

/** Something `attach` can wrap a function of. */
export type AttachTarget = object | Function;

/** A function wrapped by `attach`: the counterpart of the kernel's `struct rv_uprobe`. */
export interface Probe<Priv = unknown> {
  /** The object (or module specifier) the path starts from. */
  readonly target: AttachTarget | string;
  /** The dotted path of the function from `target`. */
  readonly path: string;
  /** The caller's opaque value, never touched by tlob. */
  readonly priv: Priv;
  /** True until `detach()`. */
  readonly attached: boolean;
  /**
   * Removes the probe. Idempotent. If another tool wrapped the function after us, our layer stays in
   * place as a pass-through and theirs is left alone; calls in flight finish normally.
   */
  detach(): void;
}

/** An installed wrapper: the slot it sits in, and the module instance it belongs to, if any. */
interface Install {
  patch: SlotPatch;
  readonly root: ModuleRoot | undefined;
  /** Set while `suspend` has put the original back in the slot. */
  suspended: boolean;
}

/**
 * The probe machinery shared by `attach` and `tlob.attach`: an `invoke` strategy run on every call
 * while active, and the wrappers it installed (one per object, or per loaded instance of a module:
 * a dual package may be loaded once by `require` and once by `import`).
 */
export class ProbeBase<Priv = unknown> implements Probe<Priv>, WrapperCore, ModuleProbeBinding {
  attached = true;
  /** The wrapper's one check per call: false means straight to the original. */
  active = true;
  /** Whether `install` also patches the other names of the function (`AttachHandlers.aliases`). */
  aliases = true;
  private readonly installs: Install[] = [];
  /** One wrapper per original function, whichever slots hold it. */
  private readonly wrappers = new Map<Function, Function>();
  /** Set between `suspend()` and `resume()`. */
  private suspended = false;
  /** What `refused` does: nothing unless set (`tlob.attach` removes the probe). */
  onRefused: (() => void) | undefined = undefined;

  constructor(
    readonly target: AttachTarget | string,
    readonly path: string,
    readonly priv: Priv,
    readonly monitor: unknown,
    readonly caller: string,
  ) {}

  /**
   * What `util.inspect` (and `console.log`) show of the probe: its public fields (`shown`), under
   * the name of its public type, not its machinery (installs, wrappers, the call site's stats).
   */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `${this.publicType} ${inspect(this.shown(), options)}`;
  }

  /** The name `util.inspect` gives the probe. */
  protected get publicType(): string {
    return 'Probe';
  }

  /** The public fields `util.inspect` shows. */
  protected shown(): object {
    return { target: this.target, path: this.path, attached: this.attached, priv: this.priv };
  }

  /** What the probe's wrappers hand each call to while active: the probe itself, by default. */
  get runner(): CallRunner {
    return this;
  }

  /** Runs one observed call; overridden by each kind of probe. */
  invoke(
    original: Function,
    thisArg: unknown,
    args: ArrayLike<unknown>,
    newTarget: Function | undefined,
  ): unknown {
    return newTarget === undefined
      ? Reflect.apply(original, thisArg, args)
      : Reflect.construct(original, args, newTarget);
  }

  /** Wraps the function at `path` from `root`; throws `ERR_TLOB_*` errors when it cannot. */
  install(root: object, label: string, moduleRoot?: ModuleRoot): void {
    if (!this.attached) return;
    let slot: Slot = resolveSlot(root, this.path, this.caller, label);
    const where = `${label}.${this.path}`;
    if (slot.descriptor.get !== undefined) slot = reexportedSlot(slot) ?? slot;
    if (this.holds(slot)) return; // reached again through a second path to the same module
    if (findProbe(slot.holder, slot.key, this.monitor) !== undefined) {
      throw new TlobError(
        'ERR_TLOB_ALREADY_ATTACHED',
        `${this.caller}: \`${where}\` already has a probe of this monitor`,
      );
    }
    checkPatchable(slot, where, this.caller, moduleRoot && (() => namespaceAdvice(moduleRoot, slot)));
    if (moduleRoot !== undefined && slot.descriptor.value === moduleRoot.object) {
      warnExportsItself(moduleRoot.label, this.path);
    }
    const first = this.installs.length === 0;
    this.patch(slot, where, moduleRoot);
    if (this.aliases && !slot.inherited && moduleRoot?.rebindable === undefined) {
      this.installAliases(slot, moduleRoot);
    }
    moduleRoot?.sync();
    if (first) this.onInstalled();
  }

  /** Puts this probe's wrapper of the slot's function in the slot and records it. */
  private patch(slot: Slot, where: string, root: ModuleRoot | undefined): void {
    const patch = patchSlot(slot, this.wrapperOf(slot.descriptor.value as Function), where, this.caller);
    this.installs.push({ patch, root, suspended: false });
    registerProbe(slot.holder, slot.key, this);
  }

  /** The one wrapper of `original` for this probe, created on first use. */
  private wrapperOf(original: Function): Function {
    let wrapper = this.wrappers.get(original);
    if (wrapper === undefined) {
      this.wrappers.set(original, (wrapper = createWrapper(this, original)));
      wrapperProbes.set(wrapper, this);
    }
    return wrapper;
  }

  /** Restores the original in the slot `holder[key]` if it still holds this probe's wrapper. */
  restoreSlot(holder: object, key: string): boolean {
    for (const { patch, root } of this.installs) {
      if (patch.slot.holder !== holder || patch.slot.key !== key || !patch.restore()) continue;
      root?.sync();
      return true;
    }
    return false;
  }

  /**
   * Patches the holder's other own data properties that hold the same function. An alias that
   * cannot be patched (read-only) or already has a probe of this monitor is left as it is.
   */
  private installAliases(slot: Slot, root: ModuleRoot | undefined): void {
    const original = slot.descriptor.value;
    for (const key of Object.getOwnPropertyNames(slot.holder)) {
      if (key === slot.key) continue;
      const descriptor = Reflect.getOwnPropertyDescriptor(slot.holder, key);
      if (descriptor === undefined || !('value' in descriptor) || descriptor.value !== original) continue;
      if (findProbe(slot.holder, key, this.monitor) !== undefined) continue;
      const alias: Slot = { holder: slot.holder, key, descriptor, inherited: false };
      try {
        this.patch(alias, `${key} (an alias of ${slot.key})`, root);
      } catch {
        // not patchable: the alias keeps the original (documented)
      }
    }
  }

  /**
   * True when `slot` is already this probe's: it was installed there, or the slot holds one of its
   * wrappers (a dual package whose ES entry re-exports its CommonJS entry reaches the same
   * prototype, or a copy of a patched export, through the second instance).
   */
  private holds(slot: Slot): boolean {
    if (findProbe(slot.holder, slot.key, this.monitor) === this) return true;
    const value = slot.descriptor.value;
    if (typeof value !== 'function') return false;
    for (const wrapper of this.wrappers.values()) if (wrapper === value) return true;
    return false;
  }

  /**
   * Takes the probe out of the way (`tlob.disable({ unpatch: true })`), as the kernel detaches a
   * disabled monitor's probes: each slot that still holds our wrapper gets the original back, so a
   * call through the property costs nothing. A wrapper that something else wrapped over stays in
   * place, and with `active` false it passes calls straight through; so do references to the
   * wrapper taken while it was installed. Instances bound later (a module loaded meanwhile) keep
   * their wrapper, switched off, so that what their importers take from them is the wrapper.
   */
  suspend(): void {
    this.active = false;
    if (this.suspended || !this.attached) return;
    this.suspended = true;
    for (const install of this.installs) {
      install.suspended = install.patch.restore();
      if (install.suspended) install.root?.sync();
    }
  }

  /** Puts the wrappers back after `suspend`. */
  resume(): void {
    if (!this.attached) return;
    this.active = true;
    if (!this.suspended) return;
    this.suspended = false;
    for (const install of this.installs) {
      if (!install.suspended) continue;
      install.suspended = false;
      if (install.patch.holdsWrapper()) continue; // someone put our wrapper back already
      if (install.patch.reapply()) install.root?.sync();
      else this.wrapNewcomer(install);
    }
  }

  /**
   * While the probe was suspended, other code replaced the original in the slot (wrapped it, say):
   * the probe goes on top of the newcomer, so its calls are observed again and `detach()` gives the
   * newcomer back. A slot that no longer holds a patchable function is left alone, with a warning.
   */
  private wrapNewcomer(install: Install): void {
    const { holder, key } = install.patch.slot;
    const own = Reflect.getOwnPropertyDescriptor(holder, key);
    const inherited = own === undefined;
    const value: unknown = inherited ? Reflect.get(holder, key) : own.value;
    if (typeof value === 'function' && (inherited || 'value' in own)) {
      const descriptor = own ?? { value, writable: true, enumerable: false, configurable: true };
      try {
        const slot: Slot = { holder, key, descriptor, inherited };
        install.patch = patchSlot(slot, this.wrapperOf(value), this.path, this.caller);
        install.root?.sync();
        return;
      } catch {
        // frozen meanwhile, say: warned below
      }
    }
    emitTlobWarning(
      `${this.caller}: the probe of \`${this.path}\` could not be put back: while tlob was disabled, ` +
        `\`${String(key)}\` was replaced by something that cannot be wrapped, or its object was frozen`,
      'TLOB_PROBE',
    );
  }

  /** Installs on a loaded instance of the module this probe names (called by the module registry). */
  bind(root: ModuleRoot): void {
    this.install(root.object, root.label, root);
  }

  /**
   * A loading instance of the module refused the probe (the registry warned why): a probe with no
   * wrapper in place anywhere then observes nothing, and `onRefused` takes it away.
   */
  refused(): void {
    if (this.attached && this.installs.length === 0) this.onRefused?.();
  }

  /** Called once the first wrapper is in place. */
  protected onInstalled(): void {}

  /** Called once at the first `detach()`, if a wrapper was ever installed. */
  protected onDetached(): void {}

  detach(): void {
    if (this.attached) {
      this.attached = false;
      this.active = false;
      if (typeof this.target === 'string') forgetModuleProbe(this.target, this);
      for (const { patch } of this.installs) unregisterProbe(patch.slot.holder, patch.slot.key, this);
      if (this.installs.length > 0) this.onDetached();
    }
    // Retried on every call: after a foreign wrapper on top of ours is removed, a second
    // detach() can restore the original.
    for (const { patch, root } of this.installs) {
      if (!patch.restore()) continue;
      root?.sync();
      peelDetached(patch.slot.holder, patch.slot.key);
    }
  }
}

/**
 * What to probe instead of a function reached through an ES module namespace that a module exports
 * (`p zod:z.object`, where zod has `export * as z`): the module's own export of the same function,
 * if it has one (`zod:object`).
 */
function namespaceAdvice(root: ModuleRoot, slot: Slot): string {
  const own = Reflect.getOwnPropertyDescriptor(root.object, slot.key);
  const alias =
    own !== undefined && 'value' in own && own.value === slot.descriptor.value
      ? `probe ${root.label}:${slot.key}, the same function as the module's own export`
      : 'probe it by the specifier and path of the module that defines it';
  return `${alias} (calls through the namespace itself cannot be observed)`;
}

/**
 * The function a module probe resolved to is the module's `module.exports` itself, reached through
 * a property that holds it too (`module.exports.default = fn`, as Fastify does): the property is
 * patched, but the module's callers get `module.exports`, which cannot be.
 */
function warnExportsItself(label: string, path: string): void {
  warnOnce(
    `exports-itself:${label}:${path}`,
    `tlob: probe ${label}:${path} is on \`${label}.${path}\`, which is the module's \`module.exports\` itself: the probe patches the property, but callers of the module (\`require('${label}')()\`, its default import) call \`module.exports\`, which cannot be patched (docs/probes.md, "Module specifiers"); only calls through \`.${path}\` are observed`,
  );
}

/** The probe of each wrapper `ProbeBase` created. */
const wrapperProbes = new WeakMap<Function, ProbeBase<any>>();

/**
 * After a restore, the slot may hold the wrapper of a probe detached earlier, which had stayed as a
 * pass-through under ours (two probes stacked on one function, detached in the order attached):
 * its original goes back too, layer by layer.
 */
function peelDetached(holder: object, key: string): void {
  for (;;) {
    const value = Reflect.getOwnPropertyDescriptor(holder, key)?.value;
    const probe = typeof value === 'function' ? wrapperProbes.get(value) : undefined;
    if (probe === undefined || probe.attached || !probe.restoreSlot(holder, key)) return;
  }
}

/** A probe with `entry`/`ret` handlers (the kernel's `rv_uprobe_attach`). */
class HandlerProbe<Priv> extends ProbeBase<Priv> implements CallHandlers {
  readonly label: string;
  readonly entry: CallHandlers['entry'];
  readonly ret: CallHandlers['ret'];
  readonly callback: boolean;

  constructor(target: AttachTarget | string, path: string, handlers: AttachHandlers<Priv>, priv: Priv) {
    super(target, path, priv, handlers.monitor ?? handlerKey(handlers), 'attach');
    this.label = path;
    this.entry = handlers.entry as CallHandlers['entry'];
    this.ret = handlers.ret as CallHandlers['ret'];
    this.callback = handlers.callback === true;
  }

  private readonly observer = new ObservedCallRunner(this, this);

  override get runner(): CallRunner {
    return this.observer;
  }
}

const handlerKeys = new WeakMap<Function, Map<Function | undefined, object>>();

/** One key per (entry, ret) pair: attaching the same handlers twice to a function is a duplicate. */
function handlerKey(handlers: AttachHandlers<any>): object {
  const first = (handlers.entry ?? handlers.ret) as Function;
  let byRet = handlerKeys.get(first);
  if (byRet === undefined) handlerKeys.set(first, (byRet = new Map()));
  let key = byRet.get(handlers.ret);
  if (key === undefined) byRet.set(handlers.ret, (key = {}));
  return key;
}

/**
 * Wraps the function at `path` from `target` and calls `entry` and `ret` on every call. `target` is
 * an object, a class or a function, or a module specifier (`'pg'`, `'node:fs/promises'`,
 * `'./lib/db.js'`): a module is patched now if loaded, else when it loads. Returns the `Probe`;
 * `probe.detach()` removes it.
 * @example
 * const probe = attach(Client.prototype, 'query', { entry: (c) => { c.data.t = performance.now(); },
 *   ret: (c) => histogram.record(performance.now() - (c.data.t as number)) });
 */
export function attach<Priv = undefined>(
  target: AttachTarget | string,
  path: string,
  handlers: AttachHandlers<Priv>,
  priv?: Priv,
): Probe<Priv> {
  checkHandlers(handlers, 'attach');
  checkTarget(target, 'attach');
  splitPath(path, 'attach');
  const probe = new HandlerProbe<Priv>(target, path, handlers, priv as Priv);
  probe.aliases = handlers.aliases !== false;
  placeProbe(probe, target, 'attach');
  return probe;
}

/** Installs `probe` on an object now, or on a module now or when it loads. */
export function placeProbe(probe: ProbeBase<any>, target: AttachTarget | string, caller: string): void {
  if (typeof target !== 'string') {
    probe.install(target, targetLabel(target));
    return;
  }
  const specifier = parseModuleSpecifier(target, caller);
  try {
    addModuleProbe(specifier, probe);
  } catch (error) {
    probe.detach();
    throw error;
  }
}

/** Checks `attach`'s handlers: an object with at least one of `entry` and `ret`, both functions. */
function checkHandlers(handlers: unknown, caller: string): void {
  if (handlers === null || typeof handlers !== 'object') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected handlers like { entry, ret }, got ${describeValue(handlers)}`,
    );
  }
  const { entry, ret } = handlers as AttachHandlers;
  checkAliasesOption(handlers, caller);
  for (const [name, value] of [
    ['entry', entry],
    ['ret', ret],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `${caller}: expected \`${name}\` to be a function, got ${describeValue(value)}`,
      );
    }
  }
  if (entry === undefined && ret === undefined) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`entry\` or \`ret\` (or both), got neither`,
    );
  }
}

/** Checks the `aliases` option of `attach` and `tlob.attach`: a boolean, or absent. */
export function checkAliasesOption(options: object, caller: string): void {
  const aliases = (options as { aliases?: unknown }).aliases;
  if (aliases !== undefined && typeof aliases !== 'boolean') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`aliases\` to be a boolean, got ${describeValue(aliases)}`,
    );
  }
}

/** Checks that `target` is an object or function. */
export function checkTarget(target: unknown, caller: string): void {
  if (typeof target === 'string') return;
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`target\` to be an object, a function or a module specifier, got ${describeValue(target)}`,
    );
  }
}

/**
 * A short name for `target` in messages and default window names: a function's or class's name,
 * `Class.prototype` for a class's prototype, a class's name for one of its instances, else `target`.
 */
export function targetLabel(target: unknown): string {
  if (typeof target === 'function' && target.name) return target.name;
  if (target === null || typeof target !== 'object') return 'target';
  try {
    const own = Object.getOwnPropertyDescriptor(target, 'constructor')?.value as unknown;
    if (typeof own === 'function' && own.name && own.prototype === target) return `${own.name}.prototype`;
    const made = (Object.getPrototypeOf(target) as { constructor?: unknown } | null)?.constructor;
    if (typeof made === 'function' && made.name && made !== Object) return made.name;
  } catch {
    // an exotic object (a Proxy whose traps throw): no better name
  }
  return 'target';
}
