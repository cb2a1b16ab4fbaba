import { describe, expect, it } from 'vitest';
import { exactDuration, formatProbeSpec, parseProbeSpecs } from '../../src/probes/spec-parser.js';

describe('probe spec parser', () => {
  it.each([
    [
      'p pg:Client.prototype.query threshold=20ms',
      [
        {
          op: 'add',
          module: 'pg',
          path: 'Client.prototype.query',
          stopPath: undefined,
          budgetNs: 20e6,
          name: undefined,
        },
      ],
    ],
    [
      'p node:fs/promises:readFile threshold=1.5s name=read',
      [{ module: 'node:fs/promises', path: 'readFile', budgetNs: 1.5e9, name: 'read' }],
    ],
    [
      'p ./lib/db.js:Conn.prototype.begin commit threshold=250us',
      [{ module: './lib/db.js', path: 'Conn.prototype.begin', stopPath: 'commit', budgetNs: 250e3 }],
    ],
    ['p file:///srv/app.mjs:handle threshold=50ms', [{ module: 'file:///srv/app.mjs', path: 'handle' }]],
    [
      '  p a:f threshold=1ms ;p b:g threshold=2ms\n\n# comment\np c:h threshold=3ms',
      [{ module: 'a' }, { module: 'b' }, { module: 'c' }],
    ],
    ['-pg:Client.prototype.query', [{ op: 'remove', module: 'pg', path: 'Client.prototype.query' }]],
    [
      'p @scope/pkg/sub:default threshold=20000ns',
      [{ module: '@scope/pkg/sub', path: 'default', budgetNs: 20000 }],
    ],
    ['', []],
    [' ; \n ', []],
    // the longest budget, in the largest unit there is
    ['p pg:query threshold=3600s', [{ budgetNs: 3600e9 }]],
    // export names are JavaScript identifiers, not only ASCII ones
    ['p ./m.mjs:ñame threshold=1s', [{ module: './m.mjs', path: 'ñame' }]],
    ['p ./m.mjs:Café.prototype.ação _fin threshold=1s', [{ path: 'Café.prototype.ação', stopPath: '_fin' }]],
    ['p ./m.mjs:$名前.x\u200Cy threshold=1s', [{ path: '$名前.x\u200Cy' }]],
    ['-./m.mjs:ñame', [{ op: 'remove', path: 'ñame' }]],
  ])('%j', (input, expected) => {
    const specs = parseProbeSpecs(input);
    expect(specs).toHaveLength(expected.length);
    for (const [i, e] of expected.entries()) expect(specs[i]).toMatchObject(e);
  });

  it.each([
    ['x pg:query threshold=1ms', 1, '"p" (add a probe)'],
    ['p', 2, 'MODULE:PATH after "p"'],
    ['p pgquery threshold=1ms', 3, 'MODULE:PATH'],
    ['p pg:Client..query threshold=1ms', 6, 'a dotted property path'],
    ['p pg:query', 11, 'threshold=DURATION'],
    ['p pg:query threshold=fast', 22, 'a duration'],
    [
      'p pg:query threshold=7200s',
      22,
      'a duration from 1us to 3600s with a unit (ns, us, ms or s), like 20ms; got 7200s, out of that range',
    ],
    // h is no unit of tlob's durations: the message names the units there are
    [
      'p pg:query threshold=1h',
      22,
      'a duration from 1us to 3600s with a unit (ns, us, ms or s), like 20ms; got "1h"',
    ],
    // a number alone is milliseconds to the API, but a spec's threshold needs its unit
    [
      'p pg:query threshold=5',
      22,
      'a duration from 1us to 3600s with a unit (ns, us, ms or s), like 20ms; got "5", a number without a unit (5ms?)',
    ],
    ['p pg:1query threshold=1ms', 6, 'a dotted property path'],
    ['p pg:a-b threshold=1ms', 6, 'a dotted property path'],
    ['p pg:query threshold=1ms threshold=2ms', 26, 'one threshold='],
    ['p pg:query threshold=1ms colour=red', 26, 'threshold= or name='],
    ['p pg:query threshold=1ms stop', 26, 'KEY=VALUE'],
    ['p pg:query name= threshold=1ms', 17, 'a value after "name="'],
    ['-pg:query extra', 11, 'nothing after'],
  ])('%j fails at column %i: expected %s', (input, column, expected) => {
    let error: (Error & { code?: string }) | undefined;
    try {
      parseProbeSpecs(`p ok:f threshold=1ms; ${input}`);
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.code).toBe('ERR_TLOB_INVALID_SPEC');
    expect(error?.message).toContain(
      `invalid probe spec "${input}" at column ${column}: expected ${expected}`,
    );
  });

  it('refuses what is not text with ERR_TLOB_INVALID_SPEC, naming what it got', () => {
    for (const input of [undefined, 5, ['p a:b threshold=1ms']]) {
      expect(() => parseProbeSpecs(input as never)).toThrow(
        expect.objectContaining({
          code: 'ERR_TLOB_INVALID_SPEC',
          message: expect.stringMatching(/^parseProbeSpecs: expected probe specs as a string .*, got /),
        }),
      );
    }
  });

  it('formats specs as it reads them (round trip)', () => {
    for (const line of [
      'p pg:Client.prototype.query threshold=20ms',
      'p ./db.js:begin commit threshold=1500us name=tx',
      'p node:fs/promises:readFile threshold=2s',
      'p x:f threshold=1001ns',
    ]) {
      const [spec] = parseProbeSpecs(line);
      if (spec?.op !== 'add') throw new Error('expected an add spec');
      expect(formatProbeSpec(spec.module, spec.path, spec.stopPath, spec.budgetNs, spec.name)).toBe(line);
    }
    expect([exactDuration(1e9), exactDuration(2e6), exactDuration(3e3), exactDuration(7)]).toEqual([
      '1s',
      '2ms',
      '3us',
      '7ns',
    ]);
  });
});
