import { type Channel, channel } from 'node:diagnostics_channel';

/**
 * The `diagnostics_channel` channels of tlob (the kernel's tracepoints). Each is published only
 * when it has subscribers, so nobody listening costs one property read.
 * - `tlob:error`: every violation record (`error_env_tlob` + `detail_env_tlob`).
 * - `tlob:event`: every model transition (`event_tlob`).
 * - `tlob:stop`: the result of every finished window.
 * - `tlob:start`: every window as it opens (a `WindowStart`), in the context of the code that opened it.
 * - `tlob:warning`: failures of user hooks, reactors and subscribers, and of tlob itself.
 */
export const channels: { readonly [name in ChannelName]: Channel } = {
  error: channel('tlob:error'),
  event: channel('tlob:event'),
  stop: channel('tlob:stop'),
  start: channel('tlob:start'),
  warning: channel('tlob:warning'),
};

/** A channel's name without its `tlob:` prefix (written out: the public types need no Node types). */
export type ChannelName = 'error' | 'event' | 'stop' | 'start' | 'warning';
