import { AsyncResource } from 'node:async_hooks';

/**
 * The async context tlob's own deferred work is created in (the budget timer, the microtask that
 * switches out windows bound at the top level): the context this module was loaded in, which holds
 * no window. Entering it emits `before`/`after` synchronously; the scheduler hooks recognise this
 * resource and ignore those events, so doing our bookkeeping never switches a window off the thread.
 */
export class OutsideResource extends AsyncResource {
  constructor() {
    super('tlob.outside', { requireManualDestroy: true });
  }
}

export const outsideResource = new OutsideResource();

/** Calls `fn(...args)` in the outside context. */
export function runOutside<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
  return outsideResource.runInAsyncScope(fn, undefined, ...args);
}
