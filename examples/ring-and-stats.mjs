// The violation ring and per-name statistics (docs/ring-and-stats.md).
// Run: node examples/ring-and-stats.mjs
import { tlob } from 'tlob';

tlob.reactor('nop');
const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A small ring to show drop-new: 5 violations into 3 slots keep the 3 oldest and count 2.
tlob.ring.resize(3);
for (let i = 1; i <= 5; i++) tlob.run(`over-${i}`, { budget: '1ms' }, () => spin(1.5));
console.log(`ring: capacity ${tlob.ring.capacity}, length ${tlob.ring.length}, dropped ${tlob.ring.dropped}`);
console.log(
  `read(2): ${tlob.ring
    .read(2)
    .map((v) => v.name)
    .join(', ')}`,
);
console.log(
  `read():  ${tlob.ring
    .read()
    .map((v) => v.name)
    .join(', ')}`,
);
console.log(`read() when empty: ${JSON.stringify(tlob.ring.read())}`);
tlob.ring.clear(); // empties it and sets dropped back to 0
tlob.ring.resize(1024);

// The async iterator waits (without polling) for the next record; leave it with break.
setTimeout(() => tlob.run('late', { budget: '1ms' }, () => spin(1.5)), 5);
for await (const v of tlob.ring) {
  console.log(`for await: ${v.name} event=${v.event} elapsed=${(v.elapsedNs / 1e6).toFixed(1)}ms`);
  break;
}

// Stats: per name, count, violations and distributions in nanoseconds.
tlob.resetStats();
for (let i = 0; i < 50; i++) tlob.run('cpu', { budget: '5ms' }, () => spin(0.2 + (i % 10) * 0.1));
for (let i = 0; i < 5; i++) await tlob.run('io', { budget: '20ms' }, () => sleep(2 + i));
tlob.run('cpu', { budget: '5ms' }, () => spin(6));
const ms = (ns) => (ns / 1e6).toFixed(2);
for (const s of tlob.stats().filter((s) => s.count > 0)) {
  console.log(
    `stats ${s.name}: count ${s.count}, violations ${s.violations}, elapsed p50 ${ms(s.elapsed.p50)} p90 ${ms(s.elapsed.p90)} ` +
      `p99 ${ms(s.elapsed.p99)} max ${ms(s.elapsed.max)} ms; running p50 ${ms(s.running.p50)}, sleeping p50 ${ms(s.sleeping.p50)} ms`,
  );
}
tlob.resetStats();
console.log(`after resetStats: ${tlob.stats().find((s) => s.name === 'cpu')?.count} windows for "cpu"`);
