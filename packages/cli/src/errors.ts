import { MlshipError, SHARED_ERROR_CODES, errorGuard, isMlshipError } from '@mlship/core';

/**
 * Every code a {@link CliError} can carry: the shared vocabulary of @mlship/core plus the command
 * line's own.
 *
 * - `USAGE`: a bad flag, argument or flag value (exit code 2).
 * - `INVALID_CONFIG`: the config file is missing, not JSON, or a field has a bad value (exit code 2).
 * - `GATE_FAILED`: a quality gate refused the candidate model (exit code 3).
 *
 * @example
 * ```ts
 * import { CLI_ERROR_CODES } from '@mlship/cli';
 * CLI_ERROR_CODES.includes('GATE_FAILED'); // true
 * ```
 */
export const CLI_ERROR_CODES = [
  ...SHARED_ERROR_CODES,
  'USAGE',
  'INVALID_CONFIG',
  'GATE_FAILED',
] as const;

/** One of {@link CLI_ERROR_CODES}. */
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

/**
 * The process exit codes of `mlship`: 0 success, 1 a runtime error (I/O, training, a remote),
 * 2 a usage error (bad flag, argument or config file), 3 a failed quality gate.
 *
 * @example
 * ```ts
 * import { EXIT_CODES } from '@mlship/cli';
 * if (code === EXIT_CODES.gate) console.log('the candidate did not beat production');
 * ```
 */
export const EXIT_CODES = { ok: 0, runtime: 1, usage: 2, gate: 3 } as const;

/**
 * The error class of @mlship/cli. Errors of the other packages keep their own class; the CLI maps
 * every error to an exit code with {@link exitCodeOf}.
 *
 * @example
 * ```ts
 * throw new CliError('USAGE', '--epochs: expected a positive integer, got "five"', { data: { path: '--epochs' } });
 * ```
 */
export class CliError extends MlshipError<CliErrorCode> {
  override name = 'CliError';
}

/**
 * Type guard for {@link CliError} (also true for a copy from another install of the package).
 *
 * @param e - anything caught
 * @returns whether `e` is a CliError
 * @throws never
 * @example
 * ```ts
 * if (isCliError(e) && e.code === 'GATE_FAILED') process.exitCode = 3;
 * ```
 */
export const isCliError: (e: unknown) => e is CliError = errorGuard('CliError', CliError);

/** Codes of any package that mean "the user gave a bad value", hence exit code 2. */
const USAGE_CODES = new Set([
  'USAGE',
  'INVALID_CONFIG',
  'INVALID_OPTION',
  'INVALID_NAME',
  'INVALID_REF',
]);

/**
 * The exit code for an error: 3 for a failed gate, 2 for bad input (a CliError `USAGE` or
 * `INVALID_CONFIG`, or any mlship error `INVALID_OPTION`, `INVALID_NAME`, `INVALID_REF`), else 1.
 *
 * @param e - anything caught
 * @returns 1, 2 or 3
 * @throws never
 * @example
 * ```ts
 * process.exitCode = exitCodeOf(new CliError('GATE_FAILED', 'v2 did not beat v1')); // 3
 * ```
 */
export function exitCodeOf(e: unknown): number {
  if (!isMlshipError(e)) return EXIT_CODES.runtime;
  if (e.code === 'GATE_FAILED') return EXIT_CODES.gate;
  return USAGE_CODES.has(e.code) ? EXIT_CODES.usage : EXIT_CODES.runtime;
}
