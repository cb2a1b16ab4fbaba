import { formatNs } from '../engine/duration.js';
import { parseSpecs } from '../probes/spec-parser.js';
import type { Command } from './command.js';
import { UsageError } from './usage-error.js';

const help = `Usage: tlob check-probes SPEC...

Checks probe specs (the TLOB_PROBES syntax) without running anything and prints what each adds
or removes. Exits 2 with the parser's message at the first invalid spec.

  p MODULE:PATH [STOP_PATH] threshold=DURATION [name=NAME]   add a probe (or a start/stop pair)
  -MODULE:PATH                                                remove one (as an argument too)

Example: tlob check-probes 'p pg:Client.prototype.query threshold=20ms'
`;

export const checkProbesCommand: Command = {
  summary: 'validate probe specs',
  help,
  run(args) {
    // every argument but the help flags is a spec, those that remove a probe (-MODULE:PATH) too
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(help);
      return 0;
    }
    const texts = args.filter((arg) => arg !== '--');
    if (texts.length === 0) throw new UsageError('check-probes', 'expected at least one SPEC, got none');
    for (const text of texts) {
      let specs: ReturnType<typeof parseSpecs>;
      try {
        specs = parseSpecs(text, 'tlob check-probes');
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
