import { describeValue, TlobTypeError } from '../report/errors.js';

/**
 * A hybrid automaton, written as data (the kernel's rvgen `.dot` model): states, events, a
 * transition table, the initial and final states, and clock invariants `clk < LIMIT()` per state.
 * The engine runs any such model; a monitor only maps its observations onto the model's events.
 */
export interface ModelSpec<S extends string = string, E extends string = string> {
  /** Monitor name, in its violation records and transition events (`monitor`). */
  readonly name: string;
  readonly states: readonly S[];
  readonly events: readonly E[];
  readonly initial: S;
  /** Marked (accepting) states, drawn as `doublecircle`. */
  readonly finals: readonly S[];
  /**
   * `transitions[from][event] = to`; a missing entry is an invalid event in that state. An entry
   * that is `undefined` (a row, or a target) counts as missing, as TypeScript's optional fields
   * have it.
   */
  readonly transitions: { readonly [F in S]?: { readonly [V in E]?: S } };
  /** Events that reset the clock on their edge (`event;reset(clk)`). */
  readonly resets?: readonly E[];
  /**
   * The clock invariant of each constrained state: `clk < limit` where the limit is a per-instance
   * value. A state whose entry is `undefined` has none.
   */
  readonly invariants?: { readonly [F in S]?: { readonly clock: string; readonly limit: string } };
}

/**
 * A model compiled for O(1) lookups on the hot path: states and events become small integers. The
 * engine's own representation, not part of the public API (a user model is data: `ModelSpec`).
 */
export interface CompiledModel<S extends string = string, E extends string = string> {
  readonly spec: ModelSpec<S, E>;
  readonly name: string;
  readonly states: readonly S[];
  readonly events: readonly E[];
  readonly initial: number;
  /** `next[state * events.length + event]`, or -1 when the event is invalid in that state. */
  readonly next: Int8Array;
  /** 1 where the state carries the clock invariant. */
  readonly constrained: Uint8Array;
  /** 1 where the event resets the clock. */
  readonly resets: Uint8Array;
  readonly final: Uint8Array;
  state(name: S): number;
  event(name: E): number;
}

/** Checks a model's data and compiles its transition table. Throws `ERR_TLOB_INVALID_MODEL` on a bad model. */
export function compileModel<S extends string, E extends string>(spec: ModelSpec<S, E>): CompiledModel<S, E> {
  checkShape(spec);
  const { states, events } = spec;
  const stateIndex = indexOf(states, 'state', spec.name);
  const eventIndex = indexOf(events, 'event', spec.name);
  const need = (map: Map<string, number>, key: string, what: string): number => {
    const i = map.get(key);
    if (i === undefined) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_MODEL',
        `model ${spec.name}: expected one of the model's ${what}s (${[...map.keys()].join(', ')}), got ${JSON.stringify(key)}`,
      );
    }
    return i;
  };
  const next = new Int8Array(states.length * events.length).fill(-1);
  for (const [from, row] of Object.entries(spec.transitions) as [
    string,
    Record<string, string | undefined>,
  ][]) {
    const f = need(stateIndex, from, 'state');
    for (const [event, to] of Object.entries(row ?? {})) {
      if (to !== undefined)
        next[f * events.length + need(eventIndex, event, 'event')] = need(stateIndex, to, 'state');
    }
  }
  const constrained = new Uint8Array(states.length);
  for (const [state, invariant] of Object.entries(spec.invariants ?? {})) {
    if (invariant !== undefined) constrained[need(stateIndex, state, 'state')] = 1;
  }
  const resets = new Uint8Array(events.length);
  for (const event of spec.resets ?? []) resets[need(eventIndex, event, 'event')] = 1;
  const final = new Uint8Array(states.length);
  for (const state of spec.finals) final[need(stateIndex, state, 'state')] = 1;
  return {
    spec,
    name: spec.name,
    states,
    events,
    initial: need(stateIndex, spec.initial, 'state'),
    next,
    constrained,
    resets,
    final,
    state: (name) => need(stateIndex, name, 'state'),
    event: (name) => need(eventIndex, name, 'event'),
  };
}

/** Checks that `spec` has the shape of a `ModelSpec` (what it says is checked by `compileModel`). */
function checkShape(spec: unknown): void {
  const fail = (model: string, what: string, got: unknown): never => {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_MODEL',
      `model${model}: expected ${what}, got ${describeValue(got)}`,
    );
  };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    fail('', 'an object { name, states, events, initial, finals, transitions }', spec);
  const m = spec as Record<string, unknown>;
  if (typeof m.name !== 'string' || m.name === '') fail('', '`name` to be a non-empty string', m.name);
  const at = ` ${m.name}`;
  const names = (key: string, value: unknown): void => {
    if (!Array.isArray(value) || !value.every((x) => typeof x === 'string'))
      fail(at, `\`${key}\` to be an array of names`, value);
  };
  const object = (key: string, value: unknown): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      fail(at, `\`${key}\` to be an object`, value);
  };
  names('states', m.states);
  names('events', m.events);
  names('finals', m.finals);
  if (typeof m.initial !== 'string') fail(at, '`initial` to be a state name', m.initial);
  object('transitions', m.transitions);
  // an entry that is `undefined` is no entry (an optional field left undefined)
  for (const [from, row] of Object.entries(m.transitions as object)) {
    if (row === undefined) continue;
    object(`transitions.${from}`, row);
    for (const [event, to] of Object.entries(row as object))
      if (to !== undefined && typeof to !== 'string')
        fail(at, `\`transitions.${from}.${event}\` to be a state name`, to);
  }
  if (m.resets !== undefined) names('resets', m.resets);
  if (m.invariants !== undefined) {
    object('invariants', m.invariants);
    for (const [state, inv] of Object.entries(m.invariants as object)) {
      if (inv === undefined) continue;
      const i = inv as { clock?: unknown; limit?: unknown } | null;
      if (i === null || typeof i !== 'object' || typeof i.clock !== 'string' || typeof i.limit !== 'string')
        fail(at, `\`invariants.${state}\` to be { clock, limit } (two names)`, inv);
    }
  }
}

function indexOf(names: readonly string[], what: string, model: string): Map<string, number> {
  const map = new Map<string, number>();
  names.forEach((name, i) => {
    if (map.has(name)) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_MODEL',
        `model ${model}: duplicate ${what} ${JSON.stringify(name)}`,
      );
    }
    map.set(name, i);
  });
  if (names.length === 0 || names.length > 127) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_MODEL',
      `model ${model}: expected 1 to 127 ${what}s, got ${names.length}`,
    );
  }
  return map;
}
