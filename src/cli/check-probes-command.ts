import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { planPreload } from '../probes/preload-plan.js';
import { parseSpecs } from '../probes/spec-parser.js';
import type { Command } from './command.js';
import { planLines, probeLine } from './preload-plan-lines.js';
import { UsageError } from './usage-error.js';

const help = `Usage: tlob check-probes [--config FILE] SPEC...

Checks probe specs (the TLOB_PROBES syntax) without running anything, as \`tlob run -p SPEC\`
would apply them: after the config file's (--config FILE, TLOB_CONFIG, or ./tlob.config.json)
and TLOB_PROBES's, in order. Prints what each adds or removes, then the probes and the reactor
that leaves. Exits 2, with the message \`tlob run\` would give, at the first spec that does not
parse, a second probe on one function, or the removal of a probe there is not.

  p MODULE:PATH [STOP_PATH] threshold=DURATION [name=NAME]   add a probe (or a start/stop pair)
  -MODULE:PATH                                                remove one (as an argument too)

Example: tlob check-probes 'p pg:Client.prototype.query threshold=20ms'
`;

const CALLER = 'tlob check-probes';

export const checkProbesCommand: Command = {
  summary: 'validate probe specs',
  help,
  run(args) {
    // every argument but the help flags and --config is a spec, those that remove a probe
    // (-MODULE:PATH) too
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(help);
      return 0;
    }
    const env = { ...process.env };
    const texts: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg === '--') continue;
      if (arg !== '--config' && !arg.startsWith('--config=')) {
        texts.push(arg);
        continue;
      }
      const file = arg === '--config' ? args[++i] : arg.slice('--config='.length);
      if (file === undefined || file === '')
        throw new UsageError('check-probes', 'expected a FILE after --config');
      if (!existsSync(resolve(file)))
        throw new UsageError('check-probes', `cannot find the config file "${file}"`);
      env.TLOB_CONFIG = file;
    }
    if (texts.length === 0) throw new UsageError('check-probes', 'expected at least one SPEC, got none');
    const out: string[] = [];
    try {
      for (const text of texts) {
        for (const s of parseSpecs(text, CALLER)) {
          out.push(s.op === 'add' ? `ok  add ${probeLine(s, ' ')}` : `ok  remove ${s.module}:${s.path}`);
        }
      }
      out.push(
        ...planLines(
          planPreload(
            env,
            texts.map((text) => ({ text, from: CALLER })),
          ),
        ),
      );
    } catch (error) {
      throw new UsageError('check-probes', (error as Error).message.replace(/^tlob check-probes: /, ''));
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};
