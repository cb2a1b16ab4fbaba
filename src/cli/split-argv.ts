import type { Options } from './command.js';

/**
 * Splits a command line into the command's own options and the program to run: at `--`, or at
 * the first positional that is not the value of an option (`util.parseArgs` cannot stop there).
 */
export function splitAtProgram(args: string[], options: Options): { own: string[]; program: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short !== undefined) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return { own: args.slice(0, i), program: args.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') return { own: args.slice(0, i), program: args.slice(i) };
    if (takesValue.has(arg)) i++; // its value, whatever it looks like
  }
  return { own: args, program: [] };
}
