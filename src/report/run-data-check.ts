import { QUANTITIES } from './run-data.js';

/**
 * What is wrong with `data` as the data of `tlob run --json` (the first problem found, named by
 * its path: `names[3].elapsed: …`), or undefined when it has every field the report and the
 * trace read, with the right types. A file whose JSON parses may still be another tool's, another
 * version's or edited by hand.
 */
export function runDataProblem(data: unknown): string | undefined {
  const v = data as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return `expected an object, got ${kindOf(data)}`;
  if (v.version !== 1) return `version: expected 1, got ${kindOf(v.version)}`;
  return (
    arrayOf(v, 'command', (s, at) =>
      typeof s === 'string' ? undefined : `${at}: expected a string, got ${kindOf(s)}`,
    ) ??
    arrayOf(v, 'names', nameProblem) ??
    arrayOf(v, 'violations', violationProblem) ??
    numberAt(v, 'violationsDropped', '') ??
    arrayOf(v, 'threads', threadProblem)
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return value === undefined
    ? 'nothing'
    : typeof value === 'object'
      ? 'an object'
      : `${JSON.stringify(value)}`;
}

function objectAt(value: unknown, at: string): string | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? undefined
    : `${at}: expected an object, got ${kindOf(value)}`;
}

function numberAt(o: Record<string, unknown>, key: string, at: string): string | undefined {
  return typeof o[key] === 'number' ? undefined : `${at}${key}: expected a number, got ${kindOf(o[key])}`;
}

/** The first of `keys` of `o` that is not a number, as a problem. */
function numbersAt(o: Record<string, unknown>, keys: readonly string[], at: string): string | undefined {
  for (const key of keys) {
    const problem = numberAt(o, key, at);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function arrayOf(
  o: Record<string, unknown>,
  key: string,
  item: (value: unknown, at: string) => string | undefined,
  at = '',
): string | undefined {
  const list = o[key];
  if (!Array.isArray(list)) return `${at}${key}: expected an array, got ${kindOf(list)}`;
  for (let i = 0; i < list.length; i++) {
    const problem = item(list[i], `${at}${key}[${i}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function histogramProblem(value: unknown, at: string): string | undefined {
  const problem = objectAt(value, at);
  if (problem !== undefined) return problem;
  const h = value as Record<string, unknown>;
  const numbers = numbersAt(h, ['count', 'sum', 'min', 'max'], `${at}.`);
  if (numbers !== undefined) return numbers;
  return arrayOf(
    h,
    'buckets',
    (n, path) => (typeof n === 'number' ? undefined : `${path}: expected a number`),
    `${at}.`,
  );
}

function nameProblem(value: unknown, at: string): string | undefined {
  const problem = objectAt(value, at);
  if (problem !== undefined) return problem;
  const n = value as Record<string, unknown>;
  if (typeof n.name !== 'string') return `${at}.name: expected a string, got ${kindOf(n.name)}`;
  const numbers = numbersAt(n, ['budgetNs', 'count', 'violations'], `${at}.`);
  if (numbers !== undefined) return numbers;
  for (const q of QUANTITIES) {
    const p = histogramProblem(n[q], `${at}.${q}`);
    if (p !== undefined) return p;
  }
  return undefined;
}

function violationProblem(value: unknown, at: string): string | undefined {
  const problem = objectAt(value, at);
  if (problem !== undefined) return problem;
  const r = value as Record<string, unknown>;
  if (typeof r.name !== 'string') return `${at}.name: expected a string, got ${kindOf(r.name)}`;
  return numbersAt(r, ['id', 'at'], `${at}.`);
}

function threadProblem(value: unknown, at: string): string | undefined {
  const problem = objectAt(value, at);
  if (problem !== undefined) return problem;
  const t = value as Record<string, unknown>;
  const numbers = numbersAt(t, ['pid', 'threadId'], `${at}.`);
  if (numbers !== undefined) return numbers;
  return (
    arrayOf(
      t,
      'argv',
      (s, path) => (typeof s === 'string' ? undefined : `${path}: expected a string`),
      `${at}.`,
    ) ??
    arrayOf(t, 'names', nameProblem, `${at}.`) ??
    arrayOf(t, 'violations', violationProblem, `${at}.`) ??
    (t.timeline === undefined || t.timeline === null ? undefined : objectAt(t.timeline, `${at}.timeline`))
  );
}
