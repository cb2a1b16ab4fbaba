import { parseArgsMessage } from '../report/errors.js';

/** A bad flag, spec or operand given to the `tlob` command: printed with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    // the library's messages start with "tlob: ", and the command prints "tlob <command>: " before
    // it; `util.parseArgs`'s start with a capital ("Unknown option '--x'"), tlob's do not
    super(parseArgsMessage(message.replace(/^tlob: /, '')));
    this.name = 'UsageError';
  }
}
