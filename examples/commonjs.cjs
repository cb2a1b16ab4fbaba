// The same package from CommonJS: require('tlob') loads the CJS build (dist/index.cjs).
// Run: node examples/commonjs.cjs
const { tlob, TlobBudgetError } = require('tlob');

tlob.reactor('nop');
const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
};

const w = tlob.start({ budget: '2ms', name: 'cjs-window' });
spin(4);
const r = w.stop();
console.log(`cjs: ${r.name} overBudget=${r.overBudget} code=${r.code}`);

tlob
  .run('cjs-run', { budget: '50ms' }, () => new Promise((resolve) => setTimeout(resolve, 5)))
  .then(() => {
    const stats = tlob.stats().find((s) => s.name === 'cjs-run');
    console.log(`cjs: run finished, count ${stats.count}, TlobBudgetError is ${typeof TlobBudgetError}`);
  });
