import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { tlobModelSpec } from '../monitors/tlob/model.js';
import { planPreload } from '../probes/preload-plan.js';
import { type Command, parseCommandArgs } from './command.js';
import { planLines } from './preload-plan-lines.js';
import { UsageError } from './usage-error.js';

const help = `Usage: tlob list [--config FILE]

Lists the monitors and their models, then the probes and the reactor the preload would apply
(the config file: --config FILE, TLOB_CONFIG, or ./tlob.config.json; then TLOB_PROBES and
TLOB_REACTOR), the specs replayed in that order as \`tlob run\` does. Exits 2 with the message
\`tlob run\` would give where it would refuse them.
`;

export const listCommand: Command = {
  summary: 'list the monitors, their models and the configured probes',
  help,
  run(args) {
    const parsed = parseCommandArgs('list', help, args, { config: { type: 'string' } }, false);
    if (parsed === undefined) return 0;
    const spec = tlobModelSpec;
    const out = [
      'monitors:',
      `  ${spec.name}  task latency over budget: per-call running / waiting / sleeping under clk < BUDGET_NS`,
      `   - model: ${spec.states.length} states (${spec.states.join(', ')}), ${spec.events.length} events (${spec.events.join(', ')})`,
      '   - reactors: log (default), nop, abort, throw, a function',
    ];
    const env = { ...process.env };
    const config = parsed.values.config;
    if (config !== undefined) {
      if (!existsSync(resolve(config)))
        throw new UsageError('list', `cannot find the config file "${config}"`);
      env.TLOB_CONFIG = config;
    }
    try {
      out.push(...planLines(planPreload(env)));
    } catch (error) {
      throw new UsageError('list', (error as Error).message);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};
