/**
 * An error meant for a person at a terminal: `main` prints its message as one sentence on stderr
 * (no stack trace unless --verbose) and exits with `exitCode`.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
