import { renderDot } from '../engine/dot.js';
import type { ModelSpec } from '../engine/model.js';
import { tlobModelSpec } from '../monitors/tlob/model.js';
import { type Command, parseCommandArgs } from './command.js';

const help = `Usage: tlob model [--dot]

Prints the tlob automaton: its states, events and transitions, the clock reset and the invariant.
  --dot   print it as Graphviz DOT (rvgen conventions), as docs/model.md shows it
`;

/** The model as text: one line per transition, then the invariants. */
function describeModel(spec: ModelSpec): string {
  const lines = [
    `model ${spec.name}`,
    `  states: ${spec.states.join(', ')} (initial ${spec.initial}, final ${spec.finals.join(', ')})`,
  ];
  lines.push(`  events: ${spec.events.join(', ')}`, '  transitions:');
  const transitions = spec.transitions as Record<string, Record<string, string> | undefined>;
  for (const from of spec.states) {
    for (const [event, to] of Object.entries(transitions[from] ?? {})) {
      const reset = spec.resets?.includes(event) ? '; reset(clk)' : '';
      lines.push(`    ${from.padEnd(9)} --${event}${reset}--> ${to}`);
    }
  }
  const invariants = (spec.invariants ?? {}) as Record<string, { clock: string; limit: string } | undefined>;
  const constrained = Object.entries(invariants).filter(([, inv]) => inv !== undefined);
  if (constrained.length > 0) {
    const inv = constrained[0]?.[1] as { clock: string; limit: string };
    lines.push(`  invariant in ${constrained.map(([s]) => s).join(', ')}: ${inv.clock} < ${inv.limit}`);
  }
  return `${lines.join('\n')}\n`;
}

export const modelCommand: Command = {
  summary: 'print the tlob automaton (--dot for Graphviz)',
  help,
  run(args) {
    const parsed = parseCommandArgs('model', help, args, { dot: { type: 'boolean' } }, false);
    if (parsed === undefined) return 0;
    process.stdout.write(
      parsed.values.dot === true ? renderDot(tlobModelSpec) : describeModel(tlobModelSpec),
    );
    return 0;
  },
};
