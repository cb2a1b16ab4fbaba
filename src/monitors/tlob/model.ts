import { compileModel, type ModelSpec } from '../../engine/model.js';

export type TlobState = 'stopped' | 'running' | 'waiting' | 'sleeping';
export type TlobEvent = 'start' | 'stop' | 'switch_in' | 'preempt' | 'sleep' | 'wakeup';

/**
 * The tlob hybrid automaton (the kernel's post-v3 model): one instance per window, driven by the
 * window's start and stop and by the event loop's scheduling of its continuations, under the
 * invariant `clk < BUDGET_NS()` in every state but `stopped`. Frozen to the last array and row: the
 * engine runs this object, so what `renderDot` draws of it is what runs.
 */
export const tlobModelSpec: ModelSpec<TlobState, TlobEvent> = freezeDeep({
  name: 'tlob',
  states: ['stopped', 'running', 'waiting', 'sleeping'],
  events: ['start', 'stop', 'switch_in', 'preempt', 'sleep', 'wakeup'],
  initial: 'stopped',
  finals: ['stopped'],
  transitions: {
    stopped: { start: 'running' },
    running: { stop: 'stopped', sleep: 'sleeping', preempt: 'waiting' },
    sleeping: { wakeup: 'waiting' },
    waiting: { switch_in: 'running' },
  },
  resets: ['start'],
  invariants: {
    running: { clock: 'clk', limit: 'BUDGET_NS' },
    waiting: { clock: 'clk', limit: 'BUDGET_NS' },
    sleeping: { clock: 'clk', limit: 'BUDGET_NS' },
  },
});

export const tlobModel = compileModel(tlobModelSpec);

/** State and event indices the glue uses on the hot path (`preempt` is in the model, not emitted). */
export const S_RUNNING = tlobModel.state('running');
export const S_WAITING = tlobModel.state('waiting');
export const S_SLEEPING = tlobModel.state('sleeping');
export const S_STOPPED = tlobModel.state('stopped');
export const E_START = tlobModel.event('start');
export const E_STOP = tlobModel.event('stop');
export const E_SWITCH_IN = tlobModel.event('switch_in');
export const E_SLEEP = tlobModel.event('sleep');
export const E_WAKEUP = tlobModel.event('wakeup');

/** Freezes `value` and every object and array in it. */
function freezeDeep<T extends object>(value: T): T {
  for (const field of Object.values(value)) {
    if (typeof field === 'object' && field !== null) freezeDeep(field);
  }
  return Object.freeze(value);
}
