import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileModel, type ModelSpec } from '../../src/engine/model.js';
import { Instance, Monitor } from '../../src/engine/monitor.js';
import { renderDot, tlob, tlobModelSpec } from '../../src/index.js';
import { BUDGET_EXPIRED } from '../../src/monitors/tlob/tlob-monitor.js';
import { ViolationRing } from '../../src/report/ring.js';

const model = compileModel(tlobModelSpec as ModelSpec);

// Every (state, event) pair of the model, as the kernel's KUnit table test does.
const expected: Record<string, Record<string, string | null>> = {
  stopped: { start: 'running', stop: null, switch_in: null, preempt: null, sleep: null, wakeup: null },
  running: {
    start: null,
    stop: 'stopped',
    switch_in: null,
    preempt: 'waiting',
    sleep: 'sleeping',
    wakeup: null,
  },
  waiting: { start: null, stop: null, switch_in: 'running', preempt: null, sleep: null, wakeup: null },
  sleeping: { start: null, stop: null, switch_in: null, preempt: null, sleep: null, wakeup: 'waiting' },
};

/** An instance that keeps its monitor, name and limit in fields of its own. */
class TestInstance extends Instance {
  constructor(
    readonly monitor: Monitor<Instance>,
    id: number,
    readonly name: string,
    readonly limitNs: number,
  ) {
    super(monitor, id);
  }
}

function newMonitor() {
  const violations: Record<string, unknown>[] = [];
  const monitor = new Monitor<Instance>(model, {
    expiredEvent: BUDGET_EXPIRED,
    errors: channel('test:error'),
    events: channel('test:event'),
    ring: new ViolationRing(),
    record: (i, _at, state, event, at, reportedLateNs) => ({
      monitor: 'tlob',
      name: i.name,
      id: i.id,
      state,
      event,
      at,
      reportedLateNs,
    }),
    format: () => 'x',
  });
  monitor.reactor = (v) => violations.push(v);
  return { monitor, violations };
}

/** An instance of the model put into `state` by valid events, with a budget that does not expire. */
function instanceIn(state: string) {
  const { monitor, violations } = newMonitor();
  const inst = new TestInstance(monitor, 1, 'test', 1e15);
  const path: Record<string, string[]> = {
    stopped: [],
    running: ['start'],
    waiting: ['start', 'preempt'],
    sleeping: ['start', 'sleep'],
  };
  monitor.start(inst, 0);
  for (const e of path[state] ?? []) expect(monitor.handle(inst, model.event(e), 1)).toBe(true);
  monitor.reset(inst);
  inst.monitoring = true;
  inst.state = model.state(state);
  return { monitor, violations, inst };
}

describe('tlob model', () => {
  for (const state of tlobModelSpec.states) {
    for (const event of tlobModelSpec.events) {
      const next = expected[state]?.[event] ?? null;
      it(`${state} --${event}--> ${next ?? 'invalid'}`, () => {
        const { monitor, violations, inst } = instanceIn(state);
        const ok = monitor.handle(inst, model.event(event), 2);
        if (next === null) {
          expect(ok).toBe(false);
          expect(violations).toHaveLength(1);
          expect(violations[0]).toMatchObject({ monitor: 'tlob', state, event });
          expect(inst.monitoring).toBe(false); // the engine resets the instance after a violation
        } else {
          expect(ok).toBe(true);
          expect(violations).toHaveLength(0);
          expect(model.states[inst.state]).toBe(next);
        }
      });
    }
  }

  it('finds an expired invariant at the next event, whatever that event is', () => {
    const { monitor, violations, inst } = instanceIn('running');
    const short = new TestInstance(monitor, 2, 'short', 10);
    monitor.startAndHandle(short, model.event('start'), 0);
    expect(monitor.handle(short, model.event('sleep'), 11)).toBe(false);
    expect(violations).toEqual([expect.objectContaining({ id: 2, state: 'running', event: 'sleep' })]);
    expect(Object.isFrozen(violations[0])).toBe(true);
    expect(inst.monitoring).toBe(true);
  });

  it('running, waiting and sleeping are under the one budget clock, so a window moves between them keeping its deadline', () => {
    // Window.switchIn/switchOut rely on it (Monitor.moveWithinInvariant)
    const clocks = ['running', 'waiting', 'sleeping'].map((s) => {
      expect(model.constrained[model.state(s)]).toBe(1);
      return tlobModelSpec.invariants?.[s as keyof typeof tlobModelSpec.invariants];
    });
    expect(clocks).toEqual([clocks[0], clocks[0], clocks[0]]);
    expect(model.constrained[model.state('stopped')]).toBe(0);
  });

  it('the deadline path reports budget_expired once and ignores later events', () => {
    const { monitor, violations } = newMonitor();
    const inst = new TestInstance(monitor, 3, 'late', 10);
    monitor.startAndHandle(inst, model.event('start'), 0);
    monitor.expire(inst, 5); // early timer: re-armed, nothing reported
    expect(violations).toHaveLength(0);
    monitor.expire(inst, 10);
    monitor.expire(inst, 20);
    expect(monitor.handle(inst, model.event('stop'), 30)).toBe(false);
    expect(violations).toEqual([expect.objectContaining({ event: BUDGET_EXPIRED, state: 'running' })]);
  });

  it('tlobModelSpec is frozen to its last array and row: it cannot be changed into a model tlob does not run', () => {
    const rendered = renderDot(tlobModelSpec);
    const spec = tlobModelSpec as unknown as {
      states: string[];
      transitions: Record<string, Record<string, string>>;
      invariants: Record<string, { limit: string }>;
    };
    expect(() => {
      (spec.transitions.running as Record<string, string>).stop = 'running';
    }).toThrow(TypeError);
    expect(() => delete spec.invariants.sleeping).toThrow(TypeError);
    expect(() => {
      (spec.invariants.running as { limit: string }).limit = 'NEVER';
    }).toThrow(TypeError);
    expect(() => spec.states.push('flying')).toThrow(TypeError);
    expect(() => {
      spec.transitions.flying = {};
    }).toThrow(TypeError);
    expect(renderDot(tlobModelSpec)).toBe(rendered);
  });

  it('docs/models/tlob.dot is the rendering of the model', () => {
    const file = readFileSync(new URL('../../docs/models/tlob.dot', import.meta.url), 'utf8');
    expect(file).toBe(renderDot(tlobModelSpec));
  });

  it('renders in the rvgen conventions', () => {
    const dot = renderDot(tlobModelSpec);
    expect(dot).toContain('"__init_stopped" -> "stopped";');
    expect(dot).toContain('{node [shape = doublecircle] "stopped"};');
    expect(dot).toContain('label = "running\\nclk < BUDGET_NS()"');
    expect(dot).toContain('"stopped" -> "running" [ label = "start;reset(clk)" ];');
  });

  it('rejects a model that names an unknown state (renderDot checks it too)', () => {
    expect(() => renderDot({ ...tlobModelSpec, initial: 'flying' as 'running' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_MODEL' }),
    );
    expect(() =>
      compileModel({ ...tlobModelSpec, transitions: { stopped: { start: 'flying' as 'running' } } }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_MODEL',
        message: expect.stringContaining('"flying"'),
      }),
    );
  });
});

describe('renderDot of something that is not a model', () => {
  const { name: _name, ...noName } = tlobModelSpec;
  it.each([
    [
      'undefined',
      undefined,
      /^model: expected an object \{ name, states, events, initial, finals, transitions \}, got undefined/,
    ],
    ['a number', 5, /^model: expected an object/],
    ['an empty object', {}, /^model: expected `name` to be a non-empty string, got undefined/],
    ['a model without a name', noName, /^model: expected `name` to be a non-empty string/],
    [
      'states as a string',
      { ...tlobModelSpec, states: 'abc' },
      /^model tlob: expected `states` to be an array of names/,
    ],
    [
      'no transitions',
      { ...tlobModelSpec, transitions: undefined },
      /^model tlob: expected `transitions` to be an object/,
    ],
    [
      'a row that is not an object',
      { ...tlobModelSpec, transitions: { stopped: 'running' } },
      /`transitions\.stopped` to be an object/,
    ],
    [
      'a target that is not a name',
      { ...tlobModelSpec, transitions: { stopped: { start: 1 } } },
      /`transitions\.stopped\.start` to be a state name/,
    ],
    [
      'an invariant without a limit',
      { ...tlobModelSpec, invariants: { running: { clock: 'clk' } } },
      /`invariants\.running` to be \{ clock, limit \}/,
    ],
  ])('%s: ERR_TLOB_INVALID_MODEL, naming what was expected', (_what, spec, message) => {
    expect(() => renderDot(spec as ModelSpec)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_MODEL', message: expect.stringMatching(message) }),
    );
  });
});

describe('an entry that is undefined counts as missing, as an optional field left undefined', () => {
  const spec: ModelSpec<'a' | 'b', 'go' | 'back'> = {
    name: 'm',
    states: ['a', 'b'],
    events: ['go', 'back'],
    initial: 'a',
    finals: ['a'],
    transitions: { a: { go: 'b' } },
    invariants: { a: { clock: 'clk', limit: 'A_NS' } },
  };
  const withUndefined: ModelSpec<'a' | 'b', 'go' | 'back'> = {
    ...spec,
    transitions: { a: { go: 'b', back: undefined }, b: undefined },
    invariants: { b: undefined, a: { clock: 'clk', limit: 'A_NS' } },
  };

  it('renderDot draws it as without the entry', () => {
    expect(renderDot(withUndefined)).toBe(renderDot(spec));
  });

  it('compileModel builds the same tables', () => {
    const plain = compileModel(spec);
    const compiled = compileModel(withUndefined);
    expect(compiled.next).toEqual(plain.next);
    expect(compiled.constrained).toEqual(plain.constrained);
  });
});

describe('the engine runs a model of another monitor', () => {
  // a call opens a transaction and must commit or roll it back within TX_NS(): a new model and a
  // page of glue, nothing in the engine
  const txSpec: ModelSpec = {
    name: 'tx',
    states: ['idle', 'in_call', 'in_tx'],
    events: ['call', 'begin', 'commit', 'rollback', 'return'],
    initial: 'idle',
    finals: ['idle'],
    transitions: {
      idle: { call: 'in_call' },
      in_call: { begin: 'in_tx', return: 'idle' },
      in_tx: { commit: 'in_call', rollback: 'in_call' },
    },
    resets: ['begin'],
    invariants: { in_tx: { clock: 'clk', limit: 'TX_NS' } },
  };

  it("publishes on the glue's channels and keeps records in the glue's ring, with the glue's labels, never tlob's", () => {
    const tx = compileModel(txSpec);
    const ring = new ViolationRing(8);
    const monitor = new Monitor<Instance>(tx, {
      expiredEvent: 'tx_timeout',
      errors: channel('tx:error'),
      events: channel('tx:event'),
      ring,
      record: (i, _at, state, event, at, reportedLateNs) => ({
        monitor: tx.name,
        name: i.name,
        id: i.id,
        table: 'orders',
        state,
        event,
        at,
        reportedLateNs,
      }),
      format: (v) => `tx ${v.name}: ${v.event}`,
    });
    monitor.reactor = 'nop';
    const seen: string[] = [];
    const listener = (_message: unknown, name: string | symbol) => seen.push(String(name));
    for (const name of ['tx:error', 'tx:event', 'tlob:error', 'tlob:event']) subscribe(name, listener);
    tlob.ring.clear();
    try {
      const late = new TestInstance(monitor, 1, 'late', 10);
      monitor.startAndHandle(late, tx.event('call'), 0);
      monitor.handle(late, tx.event('begin'), 1);
      monitor.expire(late, 11);
      const invalid = new TestInstance(monitor, 2, 'invalid', 10);
      monitor.startAndHandle(invalid, tx.event('call'), 0);
      monitor.handle(invalid, tx.event('commit'), 1);
    } finally {
      for (const name of ['tx:error', 'tx:event', 'tlob:error', 'tlob:event']) unsubscribe(name, listener);
    }
    expect(seen).toEqual(['tx:event', 'tx:event', 'tx:error', 'tx:event', 'tx:error']);
    expect(ring.read()).toEqual([
      expect.objectContaining({
        monitor: 'tx',
        name: 'late',
        state: 'in_tx',
        event: 'tx_timeout',
        table: 'orders',
      }),
      expect.objectContaining({ monitor: 'tx', name: 'invalid', state: 'in_call', event: 'commit' }),
    ]);
    expect(tlob.ring.length).toBe(0);
  });
});
