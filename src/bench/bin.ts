#!/usr/bin/env node
// The `tlob-bench` command: `tlob-bench [options] <files...>` (see `tlob-bench --help`).
import { unsupportedNode } from '../supported-node.js';
import { benchCommand } from './command.js';

/** Runs the command with `argv`, or refuses a Node.js tlob does not run on (exit 2). */
async function run(argv: string[]): Promise<number> {
  const unsupported = unsupportedNode();
  if (unsupported === undefined) return benchCommand(argv);
  process.stderr.write(`tlob bench: ${unsupported}\n`);
  return 2;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `tlob bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 2;
  },
);
