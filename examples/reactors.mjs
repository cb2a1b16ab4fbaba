// Reactors: what a violation does (docs/reactors.md). 'log' (default), 'nop', 'throw', a function,
// and a reactor that throws (reported as a TlobWarning, never thrown into the call).
// 'abort' is not run here: it ends the process (see docs/reactors.md).
// Run: node examples/reactors.mjs
import { TlobBudgetError, tlob } from 'tlob';

const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
};
const over = (name) =>
  tlob.run(name, { budget: '1ms' }, () => {
    spin(2);
    return 'result';
  });

// 'log' (the default): one line on stderr per violation, at most 10 per second.
console.log(`reactor: ${tlob.reactor()}`);
over('logged');

// 'nop': nothing happens, but the ring, the channels and the stats still see it.
tlob.reactor('nop');
over('quiet');
console.log(`nop: ring holds ${tlob.ring.length} records`);

// A function: called with the frozen violation record.
tlob.reactor((v) =>
  console.log(`function reactor: ${v.name} event=${v.event} elapsed=${(v.elapsedNs / 1e6).toFixed(1)}ms`),
);
over('custom');

// 'throw': stop() and run() throw a TlobBudgetError carrying the result.
tlob.reactor('throw');
try {
  over('strict');
} catch (error) {
  console.log(
    `throw: ${error instanceof TlobBudgetError} ${error.code} overBudget=${error.result.overBudget}`,
  );
}
const w = tlob.start({ budget: '1ms', name: 'strict-window' });
spin(2);
for (let i = 0; i < 2; i++) {
  try {
    w.stop();
  } catch (error) {
    console.log(`throw: stop() #${i + 1} threw ${error.name}`);
  }
}
try {
  await tlob.run('strict-async', { budget: '1ms' }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 3));
    return 'late';
  });
} catch (error) {
  console.log(`throw: the promise of run() rejected with ${error.name}`);
}

// A reactor that throws never reaches the call: it becomes a TlobWarning and a tlob:warning message.
process.on('warning', (warning) => {
  if (warning.name === 'TlobWarning') console.log(`process warning: ${warning.message}`);
});
tlob.subscribe('warning', ({ where, error }) => console.log(`tlob:warning: ${where}: ${error.message}`));
tlob.reactor(() => {
  throw new Error('reactor broke');
});
console.log(`the call still returned: ${over('broken-reactor')}`);
await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
