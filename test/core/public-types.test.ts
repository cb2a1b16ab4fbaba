import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  attach,
  type CallEnd,
  type TlobEvent,
  type TlobState,
  type TransitionEvent,
  tlob,
  type WindowResult,
} from '../../src/index.js';
import { spin } from '../helpers.js';

// What the public types promise, checked by `tsc` (expectTypeOf), and the values that keep it.

describe('attach handlers', () => {
  it('ret sees an ended call: its end is a CallEnd, not undefined', () => {
    const ends: CallEnd[] = [];
    const target = { f: () => 1 };
    const probe = attach(target, 'f', {
      entry(call) {
        expectTypeOf(call.end).toEqualTypeOf<CallEnd | undefined>();
      },
      ret(call) {
        expectTypeOf(call.end).toEqualTypeOf<CallEnd>();
        ends.push(call.end);
      },
    });
    target.f();
    probe.detach();
    expect(ends).toEqual(['return']);
  });
});

describe('WindowResult is a union on overBudget', () => {
  const results = (): WindowResult[] => {
    tlob.reactor('nop');
    const within = tlob.start({ budget: '1s', name: 'within' }).stop();
    const over = tlob.start({ budget: '1ms', name: 'over' });
    spin(3);
    return [within, over.stop()];
  };

  it("over budget, code is 'EOVERFLOW'; within budget, undefined", () => {
    const seen = results().map((result) => {
      if (result.overBudget) {
        expectTypeOf(result.code).toEqualTypeOf<'EOVERFLOW'>();
        return [result.overBudget, result.code];
      }
      expectTypeOf(result.code).toEqualTypeOf<undefined>();
      return [result.overBudget, result.code];
    });
    expect(seen).toEqual([
      [false, undefined],
      [true, 'EOVERFLOW'],
    ]);
  });

  it('code narrows overBudget too', () => {
    for (const result of results()) {
      if (result.code === 'EOVERFLOW') expectTypeOf(result.overBudget).toEqualTypeOf<true>();
      else expectTypeOf(result.overBudget).toEqualTypeOf<false>();
      expect(result.overBudget).toBe(result.code === 'EOVERFLOW');
    }
  });
});

describe("TransitionEvent carries tlob's names", () => {
  it("monitor is 'tlob', state and next are TlobStates, event a TlobEvent", () => {
    expectTypeOf<TransitionEvent['monitor']>().toEqualTypeOf<'tlob'>();
    expectTypeOf<TransitionEvent['state']>().toEqualTypeOf<TlobState>();
    expectTypeOf<TransitionEvent['next']>().toEqualTypeOf<TlobState>();
    expectTypeOf<TransitionEvent['event']>().toEqualTypeOf<TlobEvent>();
    const seen: string[] = [];
    const off = tlob.subscribe('event', (e) => {
      expectTypeOf(e).toEqualTypeOf<TransitionEvent>();
      // @ts-expect-error not an event of tlob's model
      if (e.event === 'bogus') seen.push('bogus');
      if (e.name === 'transitions') seen.push(`${e.monitor}: ${e.state} --${e.event}--> ${e.next}`);
    });
    try {
      tlob.run('transitions', { budget: '1s' }, () => 1);
    } finally {
      off();
    }
    expect(seen).toEqual(['tlob: stopped --start--> running', 'tlob: running --stop--> stopped']);
  });
});
