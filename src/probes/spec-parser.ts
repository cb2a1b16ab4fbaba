import { toBudgetNs } from '../engine/duration.js';
import { describeValue, TlobError, TlobTypeError } from '../report/errors.js';

/** One parsed probe spec line. */
export type ProbeSpec =
  | {
      readonly op: 'add';
      readonly module: string;
      readonly path: string;
      readonly stopPath: string | undefined;
      /** The threshold as written (`'20ms'`). */
      readonly threshold: string;
      readonly budgetNs: number;
      readonly name: string | undefined;
      /** The spec as written, for messages. */
      readonly text: string;
    }
  | { readonly op: 'remove'; readonly module: string; readonly path: string; readonly text: string };

/** A dotted path of JavaScript identifiers (Unicode ones too: `ñame`, `café.put`). */
const PATH_RE =
  /^[\p{ID_Start}_$][\p{ID_Continue}$\u200C\u200D]*(?:\.[\p{ID_Start}_$][\p{ID_Continue}$\u200C\u200D]*)*$/u;
const KEYS = new Set(['threshold', 'name']);

/**
 * Parses probe specs, the text form of the kernel's tracefs interface:
 * `p MODULE:PATH [STOP_PATH] threshold=DURATION [name=NAME]` adds a probe (or a start/stop pair),
 * `-MODULE:PATH` removes one; specs are separated by `;` or newlines; `#` starts a comment line.
 * Throws `ERR_TLOB_INVALID_SPEC` naming the spec and the column of the problem.
 */
export function parseProbeSpecs(input: string): ProbeSpec[] {
  return parseSpecs(input, 'parseProbeSpecs');
}

/** `parseProbeSpecs`, its errors naming `caller` (the API or the setting the specs came from). */
export function parseSpecs(input: string, caller: string): ProbeSpec[] {
  if (typeof input !== 'string')
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_SPEC',
      `${caller}: expected probe specs as a string (one per line or ';'), got ${describeValue(input)}`,
    );
  const specs: ProbeSpec[] = [];
  for (const raw of input.split(/[;\n]/)) {
    const text = raw.trim();
    if (text.length > 0 && !text.startsWith('#')) specs.push(parseOne(text, caller));
  }
  return specs;
}

function fail(caller: string, text: string, column: number, expected: string): never {
  throw new TlobError(
    'ERR_TLOB_INVALID_SPEC',
    `${caller}: invalid probe spec "${text}" at column ${column + 1}: expected ${expected}`,
  );
}

interface Token {
  readonly value: string;
  readonly at: number;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ value: m[0], at: m.index });
  return out;
}

/** Splits `MODULE:PATH` at the last colon (module specifiers may contain colons: `node:fs`, `file:`). */
function target(token: Token, text: string, caller: string): { module: string; path: string } {
  const colon = token.value.lastIndexOf(':');
  if (colon <= 0) fail(caller, text, token.at, 'MODULE:PATH, like "pg:Client.prototype.query"');
  const module = token.value.slice(0, colon);
  const path = token.value.slice(colon + 1);
  if (!PATH_RE.test(path)) {
    fail(caller, text, token.at + colon + 1, `a dotted property path after "${module}:", got "${path}"`);
  }
  return { module, path };
}

function parseOne(text: string, caller: string): ProbeSpec {
  const list = tokens(text);
  const first = list[0] as Token;
  if (first.value.startsWith('-')) {
    if (list.length > 1) fail(caller, text, (list[1] as Token).at, 'nothing after -MODULE:PATH');
    const { module, path } = target({ value: first.value.slice(1), at: 1 }, text, caller);
    return { op: 'remove', module, path, text };
  }
  if (first.value !== 'p') fail(caller, text, first.at, '"p" (add a probe) or "-MODULE:PATH" (remove one)');
  const where = list[1];
  if (where === undefined) fail(caller, text, text.length, 'MODULE:PATH after "p"');
  const { module, path } = target(where, text, caller);
  let stopPath: string | undefined;
  const values = new Map<string, Token>();
  for (const token of list.slice(2)) {
    const eq = token.value.indexOf('=');
    if (eq < 0) {
      if (stopPath !== undefined || values.size > 0) {
        fail(caller, text, token.at, 'KEY=VALUE (threshold=DURATION or name=NAME)');
      }
      if (!PATH_RE.test(token.value))
        fail(caller, text, token.at, `a STOP_PATH (a dotted property path), got "${token.value}"`);
      stopPath = token.value;
      continue;
    }
    const key = token.value.slice(0, eq);
    if (!KEYS.has(key)) fail(caller, text, token.at, `threshold= or name=, got "${key}="`);
    if (values.has(key)) fail(caller, text, token.at, `one ${key}=, got a second one`);
    if (eq === token.value.length - 1) fail(caller, text, token.at + eq + 1, `a value after "${key}="`);
    values.set(key, { value: token.value.slice(eq + 1), at: token.at + eq + 1 });
  }
  const threshold = values.get('threshold');
  if (threshold === undefined) fail(caller, text, text.length, 'threshold=DURATION, like threshold=20ms');
  let budgetNs: number;
  try {
    budgetNs = toBudgetNs(threshold.value, caller);
  } catch (error) {
    // a spec is text: a number alone has no unit here (the API's numbers of milliseconds do not apply)
    const value = threshold.value;
    const got = /^\d+(\.\d+)?$/.test(value)
      ? `"${value}", a number without a unit (${value}ms?)`
      : error instanceof RangeError
        ? `${value}, out of that range`
        : `"${value}"`;
    fail(
      caller,
      text,
      threshold.at,
      `a duration from 1us to 3600s with a unit (ns, us, ms or s), like 20ms; got ${got}`,
    );
  }
  return {
    op: 'add',
    module,
    path,
    stopPath,
    threshold: threshold.value,
    budgetNs,
    name: values.get('name')?.value,
    text,
  };
}

/** Formats a duration exactly, in the largest unit that divides it: `20ms`, `1500us`, `2s`. */
export function exactDuration(ns: number): string {
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${ns}ns`;
}

/** Formats one probe as a spec line, as `parseProbeSpecs` reads it. */
export function formatProbeSpec(
  module: string,
  path: string,
  stopPath: string | undefined,
  budgetNs: number,
  name: string | undefined,
): string {
  const stop = stopPath === undefined ? '' : ` ${stopPath}`;
  const named = name === undefined ? '' : ` name=${name}`;
  return `p ${module}:${path}${stop} threshold=${exactDuration(budgetNs)}${named}`;
}
