// Channels: tlob:start, tlob:event, tlob:error, tlob:stop, tlob:warning and their payloads
// (docs/channels.md).
// Run: node examples/channels.mjs
import diagnostics_channel from 'node:diagnostics_channel';
import { tlob } from 'tlob';

tlob.reactor('nop');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// tlob.subscribe guards the listener and returns an unsubscribe function.
const unsubscribe = [
  tlob.subscribe('start', (s) => console.log(`tlob:start  ${JSON.stringify(s)}`)),
  // console.log queues work of its own: a tlob:event listener runs outside every window, so that
  // work is no continuation of the window it logs
  tlob.subscribe('event', (e) =>
    console.log(
      `tlob:event  #${e.id} ${e.name}: ${e.state} --${e.event}--> ${e.next}${e.final ? ' (final)' : ''}`,
    ),
  ),
  tlob.subscribe('stop', (r) => console.log(`tlob:stop   ${JSON.stringify(r)}`)),
];
// Any tool can subscribe to the named channels directly, without importing tlob.
const onError = (v) => console.log(`tlob:error  ${JSON.stringify(v)}`);
diagnostics_channel.subscribe('tlob:error', onError);

// A window that sleeps on a timer, then stops.
const w = tlob.start({ budget: '1s', name: 'timer' });
await sleep(5);
w.stop();

// A window that expires while asleep: tlob:error with event=budget_expired, then tlob:stop at the end.
await tlob.run('slow', { budget: '20ms' }, () => sleep(50));

for (const off of unsubscribe) off();
diagnostics_channel.unsubscribe('tlob:error', onError);

// A tlob.subscribe listener that throws is reported on tlob:warning and as a TlobWarning (stderr).
tlob.subscribe('warning', ({ where, error }) => console.log(`tlob:warning ${where}: ${error.message}`));
const off = tlob.subscribe('stop', () => {
  throw new Error('listener broke');
});
console.log(`the call still returned: ${tlob.run('guarded', { budget: '1s' }, () => 'ok')}`);
off();
