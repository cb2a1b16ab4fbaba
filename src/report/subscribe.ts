import { subscribe as dcSubscribe, unsubscribe as dcUnsubscribe } from 'node:diagnostics_channel';
import { type ChannelName, channels } from './channels.js';
import { describeValue, reportInternalError, TlobTypeError } from './errors.js';

/** A `diagnostics_channel` listener. */
type Listener = (message: unknown, name: string | symbol) => void;

/**
 * Subscribes to a tlob channel (`'error'`, `'event'`, `'stop'`, `'start'`, `'warning'`). Unlike a plain
 * `diagnostics_channel.subscribe`, an exception thrown by `listener` is reported through
 * `process.emitWarning` instead of becoming an uncaught exception. Returns an unsubscribe function.
 */
export function subscribe(name: ChannelName, listener: Listener): () => void {
  const ch = Object.hasOwn(channels, name) ? channels[name] : undefined;
  if (ch === undefined) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.subscribe: expected a channel name "error", "event", "stop", "start" or "warning", got ${describeValue(name)}`,
    );
  }
  if (typeof listener !== 'function') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.subscribe: expected \`listener\` to be a function, got ${describeValue(listener)}`,
    );
  }
  const guarded: Listener = (message, channelName) => {
    try {
      listener(message, channelName);
    } catch (error) {
      if (name !== 'warning') reportInternalError(`tlob:${name} subscriber`, error);
    }
  };
  dcSubscribe(ch.name, guarded);
  return () => {
    dcUnsubscribe(ch.name, guarded);
  };
}
