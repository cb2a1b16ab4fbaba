import { compileModel, type ModelSpec } from './model.js';

/**
 * Renders a model as Graphviz DOT in the rvgen conventions: an invisible `__init_<state>` node
 * pointing at the initial state, `doublecircle` final states, one edge per (from, to) pair with its
 * events separated by `\n`, `event;reset(clk)` on resetting edges, and the invariant in the label
 * of each constrained state (`running\nclk < BUDGET_NS()`). The model is checked first: throws
 * `ERR_TLOB_INVALID_MODEL` for an unknown state or event, a duplicate name, or no states or events.
 */
export function renderDot(spec: ModelSpec): string {
  compileModel(spec);
  const q = (s: string) => JSON.stringify(s).replaceAll('\\\\n', '\\n');
  const invariants = (spec.invariants ?? {}) as Record<string, { clock: string; limit: string } | undefined>;
  const transitions = spec.transitions as Record<string, Record<string, string> | undefined>;
  const init = `__init_${spec.initial}`;
  const lines = ['digraph state_automaton {', '\tcenter = true;', '\tsize = "7,11";'];
  lines.push(`\t{node [shape = plaintext, style=invis, label=""] ${q(init)}};`);
  for (const state of spec.states) {
    const shape = spec.finals.includes(state) ? 'doublecircle' : 'circle';
    const inv = invariants[state];
    const label = inv ? `, label = ${q(`${state}\\n${inv.clock} < ${inv.limit}()`)}` : '';
    lines.push(`\t{node [shape = ${shape}${label}] ${q(state)}};`);
  }
  lines.push(`\t${q(init)} -> ${q(spec.initial)};`);
  const clock = Object.values(invariants).find((inv) => inv !== undefined)?.clock ?? 'clk';
  const edges = new Map<string, { from: string; to: string; labels: string[] }>();
  for (const from of spec.states) {
    for (const event of spec.events) {
      const to = transitions[from]?.[event];
      if (to === undefined) continue;
      const edge = edges.get(`${from}->${to}`) ?? { from, to, labels: [] };
      edge.labels.push(spec.resets?.includes(event) ? `${event};reset(${clock})` : event);
      edges.set(`${from}->${to}`, edge);
    }
  }
  for (const { from, to, labels } of edges.values()) {
    lines.push(`\t${q(from)} -> ${q(to)} [ label = ${q(labels.join('\\n'))} ];`);
  }
  lines.push('\t{ rank = min ;', `\t\t${q(init)};`, `\t\t${q(spec.initial)};`, '\t}', '}');
  return `${lines.join('\n')}\n`;
}
