// The tlob model as data, its Graphviz rendering, and a model of your own (docs/model.md).
// Run: node examples/model.mjs
import { renderDot, tlobModelSpec } from 'tlob';

// The tlob automaton, as shipped in docs/models/tlob.dot.
console.log(`// tlob: states ${tlobModelSpec.states.join(', ')}; events ${tlobModelSpec.events.join(', ')}`);
process.stdout.write(renderDot(tlobModelSpec));

// A model of your own: a transaction opened inside a call is committed or rolled back within
// TX_NS(), and the call returns outside any transaction.
const txModel = {
  name: 'tx',
  states: ['idle', 'in_call', 'in_tx'],
  events: ['call', 'begin', 'commit', 'rollback', 'return'],
  initial: 'idle',
  finals: ['idle'],
  transitions: {
    idle: { call: 'in_call' },
    in_call: { begin: 'in_tx', return: 'idle' },
    in_tx: { commit: 'in_call', rollback: 'in_call' },
  },
  resets: ['begin'],
  invariants: { in_tx: { clock: 'clk', limit: 'TX_NS' } },
};

// The model is data: its transitions are read straight from the table.
const next = (state, event) => txModel.transitions[state]?.[event] ?? 'invalid';
console.log(
  `// tx: in_tx --commit--> ${next('in_tx', 'commit')}; in_tx --return--> ${next('in_tx', 'return')}`,
);
process.stdout.write(renderDot(txModel));

// A bad model is refused with a stable code.
try {
  renderDot({ ...txModel, transitions: { idle: { call: 'nowhere' } } });
} catch (error) {
  console.log(`// ${error.name} ${error.code}: ${error.message}`);
}
