// attach() with entry/ret handlers, and tlob.attach() with a budget (docs/probes.md).
// Run: node examples/probes-demo/attach.mjs
import { attach, tlob } from 'tlob';

tlob.reactor('nop'); // results are printed from onStop here, not as log lines

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
};
const ms = (ns) => (ns / 1e6).toFixed(1);

class Client {
  async query(sql) {
    await sleep(15);
    spin(3);
    return [{ sql }];
  }
  parse(text) {
    return JSON.parse(text);
  }
}

// 1. attach: entry and ret see every call; data is per-call scratch shared by the two.
const probe = attach(Client.prototype, 'query', {
  entry: (call) => {
    call.data.t0 = performance.now();
  },
  ret: (call) => {
    const took = call.endedAt - call.data.t0;
    console.log(
      `attach: query(${JSON.stringify(call.args[0])}) ended by "${call.end}" after ${took >= 15 ? '15+' : took.toFixed(0)} ms`,
    );
  },
});
const client = new Client();
const rows = await client.query('select 1');
console.log(`attach: the caller got ${JSON.stringify(rows)}`);
// for a promise, ret runs one event-loop turn after the settlement (docs/probes.md)
await new Promise((resolve) => setImmediate(resolve));
probe.detach();
console.log(
  `attach: after detach, Client.prototype.query is the original again: ${!Client.prototype.query.__wrapped}`,
);

// 2. A callback-style function: ret runs when the callback is called.
const fsLike = {
  read(path, cb) {
    setTimeout(() => cb(null, `contents of ${path}`), 5);
  },
};
attach(fsLike, 'read', {
  callback: true,
  ret: (call) => console.log(`callback: ret got ${JSON.stringify(call.result)}`),
});
await new Promise((resolve) => fsLike.read('a.txt', resolve));

// 3. tlob.attach: each call is a window with a budget; onStop gets the split.
tlob.attach(Client.prototype, 'query', {
  budget: '50ms',
  name: 'db.query',
  onStop: (r) =>
    console.log(
      `tlob.attach: ${r.name} overBudget=${r.overBudget} elapsed ${ms(r.elapsedNs)} = running ${ms(r.runningNs)} + waiting ${ms(r.waitingNs)} + sleeping ${ms(r.sleepingNs)} ms`,
    ),
});
tlob.attach(Client.prototype, 'parse', { budget: '1ms', name: 'parse' });
await client.query('select 2');

// 4. tlob.current(): the innermost open window of the current async context.
const api = {
  async handle() {
    return tlob.current()?.name;
  },
};
tlob.attach(api, 'handle', { budget: '50ms', name: 'handler' });
console.log(`current() inside handle: ${await api.handle()}; outside: ${tlob.current()?.name}`);

// 5. A start/stop pair: the window opens at begin() and closes when commit() returns.
const tx = {
  begin() {},
  async commit() {
    await sleep(5);
  },
};
tlob.attach(tx, 'begin', {
  budget: '50ms',
  name: 'transaction',
  stopPath: 'commit',
  onStop: (r) => console.log(`pair: ${r.name} closed after ${ms(r.elapsedNs)} ms`),
});
await tlob.run('request', { budget: '1s' }, async () => {
  tx.begin();
  await sleep(5);
  await tx.commit();
});

// 6. Disabling: probes stay in place, switched off; with { unpatch: true } the originals go back
// in their slots until enable() (a disabled probe then costs nothing).
const wrapped = Client.prototype.parse;
tlob.disable();
console.log(`disable(): the wrapper stays in place: ${Client.prototype.parse === wrapped}`);
tlob.disable({ unpatch: true });
console.log(`disable({ unpatch: true }): the original is back: ${Client.prototype.parse !== wrapped}`);
tlob.enable();
console.log(`enable(): the wrapper is back: ${Client.prototype.parse === wrapped}`);
