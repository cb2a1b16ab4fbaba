import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatNs } from '../engine/duration.js';
import { tlobModelSpec } from '../monitors/tlob/model.js';
import { readPreloadSettings } from '../probes/preload-config.js';
import { parseSpecs } from '../probes/spec-parser.js';
import { type Command, parseCommandArgs } from './command.js';
import { UsageError } from './usage-error.js';

const help = `Usage: tlob list [--config FILE]

Lists the monitors and their models, then the probes the environment would apply
(TLOB_PROBES and the config file: --config FILE, TLOB_CONFIG, or ./tlob.config.json).
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
      'probes:',
    ];
    const env = { ...process.env };
    const config = parsed.values.config;
    if (config !== undefined) {
      if (!existsSync(resolve(config)))
        throw new UsageError('list', `cannot find the config file "${config}"`);
      env.TLOB_CONFIG = config;
    }
    let probes: string[] = [];
    try {
      const settings = readPreloadSettings(env);
      if (settings.file !== undefined) out.push(`  (config ${settings.file})`);
      for (const s of settings.specs.flatMap((text) => parseSpecs(text, 'tlob list'))) {
        probes.push(
          s.op === 'add'
            ? `  ${s.module}:${s.path}${s.stopPath ? ` .. ${s.stopPath}` : ''}  budget ${formatNs(s.budgetNs)}${s.name ? `  name ${s.name}` : ''}`
            : `  -${s.module}:${s.path}`,
        );
      }
    } catch (error) {
      throw new UsageError('list', (error as Error).message);
    }
    if (probes.length === 0) probes = ['  none (set TLOB_PROBES, or write tlob.config.json)'];
    process.stdout.write(`${[...out, ...probes].join('\n')}\n`);
    return 0;
  },
};
