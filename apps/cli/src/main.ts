/**
 * Running the program: parse, run the command, turn any failure into one
 * line on stderr and an exit code (the stack only with `--verbose`).
 *
 * @module
 */
import { CommanderError } from 'commander';
import { describeError, describeStack, ExitCode } from './errors.js';
import { createProgram } from './program.js';

/** Runs `ergon` with `argv` (as in `process.argv`) and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      const shown = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
      return shown || error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const { line, exitCode } = describeError(error);
    process.stderr.write(`${line}\n`);
    if (program.opts<{ verbose?: boolean }>().verbose === true || argv.includes('--verbose')) {
      process.stderr.write(`${describeStack(error)}\n`);
    }
    return exitCode;
  }
}
