import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

/** One subcommand of `tlob`: its one-line summary, its help text, and what it does. */
export interface Command {
  readonly summary: string;
  readonly help: string;
  /** Runs the command with its arguments; resolves to the exit code. */
  run(args: string[]): number | Promise<number>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs` with `--help`/`-h` added and its errors turned into usage errors (exit 2).
 * Returns undefined when help was asked for (and printed).
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  help: string,
  args: string[],
  options: O,
  allowPositionals: boolean,
) {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    if ((parsed.values as Record<string, unknown>).help === true) {
      process.stdout.write(help);
      return undefined;
    }
    return parsed;
  } catch (error) {
    throw new UsageError(command, (error as Error).message);
  }
}
