import { spawn } from 'node:child_process';

/** What a child process printed (stdout and stderr interleaved, the end kept) and how it ended. */
export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/** How {@link run} starts and waits for a command. */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; no limit when omitted. */
  timeoutMs?: number;
  /** The last characters of output kept (the error is usually last); default 30,000. */
  keep?: number;
  /**
   * When the run is over: `'close'` (default) when the process has exited and its output ended, so
   * nothing it printed is lost; `'exit'` as soon as the process itself exits, even if a process it
   * started still holds its output open (a README block that leaves a server running).
   */
  until?: 'close' | 'exit';
}

/**
 * Runs a command to completion (stdin closed, so nothing waits for a terminal).
 *
 * @param command - the program
 * @param args - its arguments
 * @param options - working directory, environment, time limit
 * @returns its exit status, signal and output; a command that cannot start has its error in `output`
 */
export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<Run> {
  const keep = options.keep ?? 30_000;
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const append = (d: Buffer | string): void => {
      output = (output + d.toString()).slice(-keep);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.on('error', (e) => append(String(e)));
    child.on(options.until ?? 'close', (status: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      done({ status, signal, output, timedOut });
    });
  });
}
