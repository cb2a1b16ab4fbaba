/** A bad flag, spec or operand given to the `tlob` command: printed with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    // the library's messages start with "tlob: ", and the command prints "tlob <command>: " before it
    super(message.replace(/^tlob: /, ''));
    this.name = 'UsageError';
  }
}
