import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built `mlship` bin, as `npx @mlship/cli` runs it (the test task builds the package first). */
export const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mlship ...args` as a child process (stdio not a terminal) and collects its output. */
export function mlship(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh temporary directory and its remover. */
export async function tempDir(
  prefix: string,
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `mlship-cli-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A `mlship` child process that keeps running (e.g. `mlship serve`), with its output so far. */
export interface RunningMlship {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr; rejects when the process exits first or after `ms`. */
  waitForStderr(pattern: RegExp, ms: number): Promise<RegExpExecArray>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `mlship ...args` as a child process and returns at once (stdio not a terminal). */
export function startMlship(args: readonly string[], options: { cwd: string }): RunningMlship {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    },
  );
  let done = false;
  void exited.finally(() => (done = true)).catch(() => undefined);
  const waitForStderr = async (pattern: RegExp, ms: number): Promise<RegExpExecArray> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(stderr);
      if (m !== null) return m;
      if (done) throw new Error(`mlship exited before printing ${String(pattern)}:\n${stderr}`);
      if (Date.now() > deadline)
        throw new Error(`no ${String(pattern)} on stderr after ${ms} ms:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, stdout: () => stdout, stderr: () => stderr, waitForStderr, exited };
}
