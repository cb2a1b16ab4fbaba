#!/usr/bin/env node
// The `tlob-bench` command: `tlob-bench [options] <files...>` (see `tlob-bench --help`).
import { benchCommand } from './command.js';

benchCommand(process.argv.slice(2)).then(
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
