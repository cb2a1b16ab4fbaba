import { formatNs } from '../engine/duration.js';
import { parseProbeSpecs } from '../probes/spec-parser.js';
import { type Command, parseCommandArgs } from './command.js';
import { UsageError } from './usage-error.js';

const help = `Usage: tlob check-probes SPEC...

Checks probe specs (the TLOB_PROBES syntax) without running anything and prints what each adds
or removes. Exits 2 with the parser's message at the first invalid spec.

  p MODULE:PATH [STOP_PATH] threshold=DURATION [name=NAME]   add a probe (or a start/stop pair)
  -MODULE:PATH                                                remove one

Example: tlob check-probes 'p pg:Client.prototype.query threshold=20ms'
`;

export const checkProbesCommand: Command = {
  summary: 'validate probe specs',
  help,
  run(args) {
    const parsed = parseCommandArgs('check-probes', help, args, {}, true);
    if (parsed === undefined) return 0;
    if (parsed.positionals.length === 0)
      throw new UsageError('check-probes', 'expected at least one SPEC, got none');
    for (const text of parsed.positionals) {
      let specs: ReturnType<typeof parseProbeSpecs>;
      try {
        specs = parseProbeSpecs(text, 'tlob check-probes');
      } catch (error) {
        throw new UsageError('check-probes', (error as Error).message.replace(/^tlob check-probes: /, ''));
      }
      for (const s of specs) {
        const what =
          s.op === 'add'
            ? `add ${s.module}:${s.path}${s.stopPath ? ` .. ${s.stopPath}` : ''} budget ${formatNs(s.budgetNs)}${s.name ? ` name ${s.name}` : ''}`
            : `remove ${s.module}:${s.path}`;
        process.stdout.write(`ok  ${what}\n`);
      }
    }
    return 0;
  },
};
