import { type Duration, toBudgetNs } from '../engine/duration.js';
import type { CallSite } from '../monitors/tlob/call-site.js';
import { createSite } from '../monitors/tlob/site.js';
import { describeValue, refuseUnknownOptions, TlobTypeError } from '../report/errors.js';
import { copyReflectMetadata } from './reflect-metadata.js';

/** Options of `@budget`: the budget, and the window name (default `Class.method`). */
export interface BudgetOptions {
  /**
   * The latency budget: milliseconds, or a string with a unit (`'250us'`, `'50ms'`, `'1.5s'`).
   * @example { budget: '20ms' }
   */
  budget: Duration;
  /**
   * The window name reported in results, violations and stats.
   * @default 'Class.method' ('Class.method' also for static methods)
   */
  name?: string;
}

/** A method decorator usable both as a TC39 standard decorator and under `experimentalDecorators`. */
export interface BudgetDecorator {
  <T extends Function>(method: T, context: ClassMethodDecoratorContext): T;
  (target: object, key: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor;
}

/**
 * Puts a latency budget on a class method (instance or static, sync or async): every call runs
 * in its own window, as with `tlob.attach`. Works as a TC39 standard decorator and under
 * TypeScript's `experimentalDecorators`. The budget is checked when the class is defined.
 * @example
 * class Repo {
 *   @budget('20ms') async find(id: string) { … }
 *   @budget({ budget: '5ms', name: 'repo.parse' }) static parse(text: string) { … }
 * }
 */
export function budget(options: Duration | BudgetOptions): BudgetDecorator {
  const { budget: value, name } = normalize(options);
  // checked now, so that a bad budget or name fails when the class is defined
  toBudgetNs(value, '@budget');
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `@budget: expected \`name\` to be a non-empty string, got ${describeValue(name)}`,
    );
  }
  return function decorate(target: unknown, context: unknown, descriptor?: PropertyDescriptor): any {
    if (isStandardContext(context)) {
      if (context.kind !== 'method') {
        const article = context.kind === 'accessor' ? 'an' : 'a';
        const named = context.name === undefined ? '' : ` \`${String(context.name)}\``;
        throw new TlobTypeError(
          'ERR_TLOB_INVALID_ARG',
          `@budget: expected a method, got ${article} ${context.kind}${named}`,
        );
      }
      return budgeted(target as Function, context.name, context.static, value, name, context);
    }
    if (
      descriptor === undefined ||
      typeof descriptor !== 'object' ||
      typeof descriptor.value !== 'function'
    ) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `@budget: expected a method, got ${legacyKind(target, context, descriptor)}`,
      );
    }
    const isStatic = typeof target === 'function';
    const className = isStatic ? (target as Function).name : (target as object).constructor?.name;
    const method = budgeted(descriptor.value, context as string | symbol, isStatic, value, name, className);
    return { ...descriptor, value: method };
  } as BudgetDecorator;
}

/**
 * What a decorator under `experimentalDecorators` was applied to, when not a method: a class
 * (`target` alone), a field (no descriptor), a parameter (its index), an accessor, or a property
 * whose value is not a function.
 */
function legacyKind(target: unknown, key: unknown, descriptor: unknown): string {
  const named = (name: unknown) => (name === undefined ? '' : ` \`${String(name)}\``);
  if (key === undefined && descriptor === undefined && typeof target === 'function') {
    return `a class${named(target.name || undefined)}`;
  }
  if (typeof descriptor === 'number')
    return key === undefined ? 'a constructor parameter' : `a parameter of${named(key)}`;
  if (descriptor === undefined) return `a field${named(key)}`;
  const { get, set, value } = descriptor as PropertyDescriptor;
  if (get !== undefined || set !== undefined) return `an accessor (get or set)${named(key)}`;
  return describeValue(value);
}

function normalize(options: unknown): { budget: Duration; name: string | undefined } {
  if (typeof options === 'number' || typeof options === 'string') return { budget: options, name: undefined };
  if (options === null || typeof options !== 'object') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `@budget: expected a budget like "20ms" or { budget, name }, got ${describeValue(options)}`,
    );
  }
  refuseUnknownOptions(options, ['budget', 'name'], '@budget');
  const { budget, name } = options as BudgetOptions;
  return { budget, name };
}

function isStandardContext(context: unknown): context is ClassMethodDecoratorContext {
  return typeof context === 'object' && context !== null && 'kind' in context;
}

/**
 * The replacement method. Without a given name, the window is named `Class.key` after the class
 * that defines the method. `classOrContext` is that class's name under `experimentalDecorators`;
 * a standard decorator's context does not give the class, so a static method learns it when the
 * class is defined (from an initializer of the context, run with the class as `this`) and an
 * instance method at its first call whose `this` tells it (`definingClassName`). A call before that
 * runs in a window named `anonymous.key`, and the name stays open. Reading the class never throws.
 */
function budgeted(
  method: Function,
  key: string | symbol,
  isStatic: boolean,
  value: Duration,
  name: string | undefined,
  classOrContext?: string | ClassMethodDecoratorContext,
): Function {
  const named = (owner: string) =>
    createSite({ budget: value, name: name ?? `${owner}.${String(key)}` }, '@budget');
  let site: CallSite | undefined =
    name !== undefined || typeof classOrContext === 'string' ? named(classOrContext as string) : undefined;
  let unnamed: CallSite | undefined;
  const methods: Record<string | symbol, Function> = {
    // `arguments` passed on instead of a rest array: no array is built per call
    [key](this: unknown): unknown {
      // biome-ignore lint/complexity/noArguments: hot path, see above
      return (site ?? siteFor(this)).invoke(method, this, arguments, undefined);
    },
  };
  const replacement = methods[key] as Function;
  const siteFor = (self: unknown): CallSite => {
    const owner = definingClassName(self, key, replacement, isStatic);
    if (owner !== undefined) return (site = named(owner));
    return (unnamed ??= named('anonymous'));
  };
  const context = typeof classOrContext === 'object' ? classOrContext : undefined;
  if (site === undefined && isStatic && typeof context?.addInitializer === 'function') {
    context.addInitializer(function (this: unknown) {
      site ??= named(functionName(this) ?? 'anonymous');
    });
  }
  // its name as the method's own (`[handle]` for a symbol key, where the key would give `Symbol(handle)`)
  Object.defineProperty(replacement, 'name', { value: method.name });
  Object.defineProperty(replacement, 'length', { value: method.length });
  copyReflectMetadata(method, replacement); // of decorators applied before this one (NestJS's)
  return replacement;
}

/**
 * The name of the class that defines `method` as `key`, seen from a call's `this`: walking its
 * prototype chain (itself included), the first class (a static method) or prototype (an object with
 * a function as own `constructor`) whose own `key` is the method; where none is (another
 * decorator wrapped the method after this one), the first whose own `key` is anything. A class
 * without a name is `'anonymous'`. Undefined when `this` tells nothing (undefined, a primitive, an
 * object that reaches no `key`) or cannot be read (a revoked proxy, a trap that throws); only own
 * descriptors are read, so no getter of `this` runs.
 */
function definingClassName(
  self: unknown,
  key: string | symbol,
  method: Function,
  isStatic: boolean,
): string | undefined {
  if (self === null || (typeof self !== 'object' && typeof self !== 'function')) return undefined;
  try {
    let holder: Function | undefined;
    for (let object: object | null = self; object !== null; object = Reflect.getPrototypeOf(object)) {
      const own = Reflect.getOwnPropertyDescriptor(object, key);
      if (own === undefined) continue;
      const owner: unknown = isStatic
        ? object
        : Reflect.getOwnPropertyDescriptor(object, 'constructor')?.value;
      if (typeof owner !== 'function') continue;
      if (own.value === method) return functionName(owner) ?? 'anonymous';
      holder ??= owner;
    }
    return holder === undefined ? undefined : (functionName(holder) ?? 'anonymous');
  } catch {
    return undefined;
  }
}

/** A function's non-empty `name`, else undefined; a `name` getter that throws gives undefined. */
function functionName(value: unknown): string | undefined {
  if (typeof value !== 'function') return undefined;
  try {
    const name: unknown = value.name;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined;
  }
}
