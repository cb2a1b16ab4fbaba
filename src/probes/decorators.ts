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
      return budgeted(target as Function, String(context.name), context.static, value, name);
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
    const method = budgeted(descriptor.value, String(context), isStatic, value, name, className);
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
 * The replacement method. Without a given name, the site is made at the first call, when the
 * class name is known (a standard decorator does not see the class).
 */
function budgeted(
  method: Function,
  key: string,
  isStatic: boolean,
  value: Duration,
  name: string | undefined,
  className?: string,
): Function {
  let site: CallSite | undefined =
    name !== undefined || className !== undefined
      ? createSite({ budget: value, name: name ?? `${className}.${key}` }, '@budget')
      : undefined;
  const replacement = {
    // `arguments` passed on instead of a rest array: no array is built per call
    [key](this: unknown): unknown {
      if (site === undefined) {
        const owner = isStatic ? (this as Function)?.name : (this as object | undefined)?.constructor?.name;
        site = createSite({ budget: value, name: `${owner ?? 'anonymous'}.${key}` }, '@budget');
      }
      // biome-ignore lint/complexity/noArguments: hot path, see above
      return site.invoke(method, this, arguments, undefined);
    },
  }[key] as Function;
  // its name as the method's own (`[handle]` for a symbol key, where the key would give `Symbol(handle)`)
  Object.defineProperty(replacement, 'name', { value: method.name });
  Object.defineProperty(replacement, 'length', { value: method.length });
  copyReflectMetadata(method, replacement); // of decorators applied before this one (NestJS's)
  return replacement;
}
