#!/usr/bin/env node
import { nearestName } from '../report/errors.js';
import { unsupportedNode } from '../supported-node.js';
import { TLOB_VERSION } from '../version.js';
import type { Command } from './command.js';
import { UsageError } from './usage-error.js';

/** The subcommands: one line each, loaded on use. */
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run-command.js')).runCommand,
  report: async () => (await import('./report-command.js')).reportCommand,
  list: async () => (await import('./list-command.js')).listCommand,
  model: async () => (await import('./model-command.js')).modelCommand,
  'check-probes': async () => (await import('./check-probes-command.js')).checkProbesCommand,
  bench: async () => (await import('./bench-command.js')).benchCommandEntry,
};

async function help(): Promise<string> {
  const lines = ['Usage: tlob <command> [options]', '       tlob --version', '', 'Commands:'];
  for (const [name, load] of Object.entries(commands))
    lines.push(`  ${name.padEnd(14)}${(await load()).summary}`);
  lines.push('', 'Run `tlob <command> --help` for the options of a command.', '');
  return lines.join('\n');
}

/** Runs `tlob` with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const unsupported = unsupportedNode();
  if (unsupported !== undefined) {
    process.stderr.write(`tlob: ${unsupported}\n`);
    return 2;
  }
  const [name, ...rest] = argv;
  if (name === 'help' && rest.length > 0) return main([...rest, '--help']); // `tlob help run`
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`tlob ${TLOB_VERSION}\n`);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (load === undefined) {
    const near = nearestName(name, Object.keys(commands), 1); // a command name is short: one typo
    process.stderr.write(
      `tlob: unknown command "${name}" (${near === undefined ? '' : `did you mean "${near}"? `}expected one of ${Object.keys(commands).join(', ')})\nRun \`tlob --help\` for usage.\n`,
    );
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(
        `tlob ${error.command}: ${error.message}\nRun \`tlob ${error.command} --help\` for usage.\n`,
      );
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `tlob: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
