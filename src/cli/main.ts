import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { CliError } from './cli-error.js';
import { demoCommand } from './demo.js';
import { keysCommand } from './keys.js';
import { serveCommand } from './serve.js';
import { replayCommand, streamsCommand } from './streams.js';
import { tailCommand } from './tail.js';
import { tokensCommand } from './tokens.js';
import { validateCommand } from './validate.js';

/** Exit codes shared by every command: 0 success, 1 the command's own "not ok", 2 usage or I/O error. */
export const EXIT_USAGE = 2;

/**
 * Commander settings are not inherited by commands built with `new Command()`: make every command
 * throw instead of calling process.exit, so `main` decides the exit code (2 for usage errors).
 */
function throwInsteadOfExiting(command: Command): void {
  command.exitOverride().showHelpAfterError('(run with --help for usage)');
  for (const sub of command.commands) throwInsteadOfExiting(sub);
}

function buildProgram(): Command {
  const program = new Command('flowstream')
    .description(
      'Execution log streaming: workflow execution events, delivered to every SIEM that wants them.',
    )
    .version(VERSION)
    .option('--verbose', 'print stack traces of unexpected errors');
  program.addCommand(serveCommand());
  program.addCommand(validateCommand());
  program.addCommand(demoCommand());
  program.addCommand(streamsCommand());
  program.addCommand(tailCommand());
  program.addCommand(tokensCommand());
  program.addCommand(keysCommand());
  program.addCommand(replayCommand());
  throwInsteadOfExiting(program);
  return program;
}

/** Runs the CLI and returns the process exit code. Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err: unknown) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof CliError) {
      process.stderr.write(`flowstream: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`flowstream: ${message}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
