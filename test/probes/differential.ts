import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The libraries of the differential tests: every exported function of each, as a plain object. */
export function libraries(): Array<[string, Record<string, unknown>]> {
  return [
    ['lodash', { ...(require('lodash') as Record<string, unknown>) }],
    ['semver', { ...(require('semver') as Record<string, unknown>) }],
    ['date-fns', { ...(require('date-fns') as Record<string, unknown>) }],
  ];
}

/** A varied input set: fresh values on every call, since functions may mutate their arguments. */
export function inputs(): unknown[][] {
  const d = () => new Date(Date.UTC(2024, 1, 29, 13, 45, 7));
  return [
    [],
    [undefined],
    [null],
    [0],
    [42],
    [-1.5],
    [Number.NaN],
    ['abc'],
    [''],
    ['1.2.3'],
    ['1.2.3', '^1.0.0'],
    ['2.0.0-beta.1', '>=1.0.0'],
    ['1.2.3', '1.2.4'],
    ['v1.2', 'major'],
    [[1, 2, 3]],
    [[3, 1, 2], (x: number) => x * 2],
    [[{ a: 1 }, { a: 2 }], 'a'],
    [{ a: 1, b: { c: 2 } }, 'b.c'],
    [{ a: 1 }, { b: 2 }],
    ['hello world', 3],
    [d()],
    [d(), 3],
    [d(), d()],
    [d(), 'yyyy-MM-dd'],
    [d(), { weeks: 1 }],
    [Symbol.for('s')],
    [() => 7],
    [true, false],
  ];
}

/** What a call did, in a form `toEqual` compares across two runs. */
export function outcome(fn: Function, thisArg: unknown, args: unknown[]): unknown {
  try {
    return { returned: normalize(Reflect.apply(fn, thisArg, args), 0) };
  } catch (error) {
    return { threw: error instanceof Error ? `${error.name}: ${error.message}` : normalize(error, 0) };
  }
}

function normalize(value: unknown, depth: number): unknown {
  if (typeof value === 'function') return `[Function ${value.name} ${value.length}]`;
  if (typeof value === 'symbol') return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 4) return '[deep]';
  if (value instanceof Date) return `[Date ${value.getTime()}]`;
  if (value instanceof Promise) return '[Promise]';
  if (Array.isArray(value)) return value.map((v) => normalize(v, depth + 1));
  const out: Record<string, unknown> = { __proto: Object.getPrototypeOf(value)?.constructor?.name };
  for (const key of Object.keys(value))
    out[key] = normalize((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

/** Functions whose result depends on time or randomness, skipped by the differential tests. */
export function isDeterministic(fn: Function, args: () => unknown[]): boolean {
  const a = JSON.stringify(outcome(fn, undefined, args()), replacer);
  const b = JSON.stringify(outcome(fn, undefined, args()), replacer);
  return a === b;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && Number.isNaN(value) ? 'NaN' : value;
}
