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
    if (takesValue.has(arg))
      i++; // its value, whatever it looks like
    else if (valueFollowsGroup(arg, takesValue)) i++;
  }
  return { own: args, program: [] };
}

/**
 * Whether `arg` is a group of short options (`-qr`) whose last one takes the next argument as its
 * value, as `util.parseArgs` reads it: an option that takes a value inside the group takes the
 * rest of the group instead (`-rnop`), and then the next argument is not its value.
 */
function valueFollowsGroup(arg: string, takesValue: ReadonlySet<string>): boolean {
  if (arg.startsWith('--') || arg.length <= 2 || arg.includes('=')) return false;
  for (let c = 1; c < arg.length; c++) {
    if (takesValue.has(`-${arg[c]}`)) return c === arg.length - 1;
  }
  return false;
}
