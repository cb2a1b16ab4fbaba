import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeJsonFile } from '../../src/report/json-file.js';

const dir = mkdtempSync(join(tmpdir(), 'tlob-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What `writeJsonFile` wrote for `value`. */
function written(value: unknown): string {
  const file = join(dir, 'out.json');
  writeJsonFile(file, value);
  return readFileSync(file, 'utf8');
}

describe('writeJsonFile', () => {
  it('writes what JSON.stringify writes', () => {
    const values: unknown[] = [
      null,
      0,
      -0,
      1.5e-7,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      'a "quoted" \u2028 line\n',
      true,
      [],
      {},
      [undefined, () => 1, Symbol('s'), null, 2],
      { a: undefined, b: () => 1, c: Symbol('s'), d: null, 'e"': [1, { f: 'g' }] },
      { date: new Date(0), withJson: { toJSON: () => 'mine' }, map: new Map([[1, 2]]) },
      Object.assign(Object.create(null), { bare: 1 }),
      { deep: [[[[{ x: [1, 2, 3] }]]]] },
    ];
    for (const v of values) expect(written(v)).toBe(JSON.stringify(v));
  });

  it('writes a typed array as the array of its numbers, and values larger than one piece whole', () => {
    const at = new Float64Array(300_000).map((_, i) => i * 1.25 + 0.1);
    const kind = new Uint8Array(300_000).map((_, i) => i % 5);
    const names = Array.from({ length: 50_000 }, (_, i) => `name ${i} "quoted"`);
    const text = written({ at: at.subarray(0, 250_001), kind, names, n: 3 });
    expect(text).toBe(
      JSON.stringify({ at: Array.from(at.subarray(0, 250_001)), kind: Array.from(kind), names, n: 3 }),
    );
    expect(written(new Float64Array([Number.NaN, -0, 1]))).toBe('[null,0,1]');
    // the events of a trace: small objects, written by slices, and one big one among them
    const events: unknown[] = Array.from({ length: 20_000 }, (_, i) => ({
      name: `e${i}`,
      ts: i / 3,
      args: { id: i, skip: undefined },
    }));
    events.splice(5000, 0, { big: Array.from({ length: 40_000 }, (_, i) => i) }, undefined);
    expect(written({ traceEvents: events })).toBe(JSON.stringify({ traceEvents: events }));
    // inside an object that is walked (it holds a typed array): what toJSON gives, or leaves out
    const columns = new Float64Array([1, 2]);
    const odd = {
      gone: { toJSON: () => undefined },
      buffer: Buffer.from([1, 2]),
      date: new Date(0),
      fn: () => 1,
      columns,
      list: [{ toJSON: () => undefined }, Buffer.from([3])],
    };
    expect(written(odd)).toBe(JSON.stringify({ ...odd, columns: [1, 2] }));
    // a typed array deep inside an element of a big array
    const nested = [...events.slice(0, 10), { columns: { at: new Float64Array([1, 2]) } }];
    expect(written(nested)).toBe(JSON.stringify([...events.slice(0, 10), { columns: { at: [1, 2] } }]));
  });
});
