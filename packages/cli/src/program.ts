import { Command, CommanderError } from 'commander';
import { isMlshipError } from '@mlship/core';
import type { CommandDef } from './command';
import { evaluateCommand } from './commands/evaluate';
import { experimentCommand } from './commands/experiment';
import { imageCommands } from './commands/image';
import { pipelineCommand } from './commands/pipeline';
import { serveCommand } from './commands/serve';
import { transferCommand } from './commands/transfer';
import { predictCommand } from './commands/predict';
import { registryCommands } from './commands/registry';
import { trainCommand } from './commands/train';
import { EXIT_CODES, exitCodeOf } from './errors';
import { addFieldOptions, resolveSettings } from './fields';
import { Output } from './output';
import type { CliIo } from './output';

/** Every command of `mlship`, in the order `--help` lists them. */
export const COMMANDS: readonly CommandDef[] = [
  trainCommand,
  evaluateCommand,
  predictCommand,
  transferCommand,
  experimentCommand,
  ...registryCommands,
  serveCommand,
  ...imageCommands,
  pipelineCommand,
];

/** The version `mlship --version` prints (replaced at build time). */
declare const __MLSHIP_CLI_VERSION__: string | undefined;
const VERSION = typeof __MLSHIP_CLI_VERSION__ === 'string' ? __MLSHIP_CLI_VERSION__ : '0.0.0-dev';

const GROUP_SUMMARIES: Record<string, string> = {
  registry:
    'version models in a git registry: init, register, list, show, diff, assign, unassign, checkout, lineage, push, pull',
  image:
    'build and push OCI images of the model server; write a Dockerfile or Kubernetes manifests',
  pipeline: 'run the delivery pipeline: train or adapt, gate, register, build the image',
};

function defaultIo(io: Partial<CliIo>): CliIo {
  return {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
  };
}

function build(io: CliIo, signal: AbortSignal, commands: readonly CommandDef[]): Command {
  const program = new Command('mlship')
    .description(
      'Train, version, serve and ship TensorFlow.js image classifiers (the mlship delivery pipeline).',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 runtime error, 2 usage error (bad flag or config file), 3 quality gate failed.\n' +
        'Every command takes --config <file.json> (its settings; flags override them), --json and --quiet.\n\n' +
        'Example:\n  $ mlship train --epochs 1 --out models/cnn && mlship registry register cnn models/cnn --stage production',
    );
  const groups = new Map<string, Command>();
  for (const def of commands) {
    let parent = program;
    for (const part of def.path.slice(0, -1)) {
      let group = groups.get(part);
      if (group === undefined) {
        group = parent
          .command(part)
          .description(GROUP_SUMMARIES[part] ?? part)
          .exitOverride()
          .configureOutput({
            writeOut: (s) => io.stdout.write(s),
            writeErr: (s) => io.stderr.write(s),
          })
          .showHelpAfterError('(run with --help for usage)');
        const children = commands.filter((c) => c.path[0] === part);
        group.addHelpText('after', `\nExample:\n  $ ${children[0]?.examples[0] ?? ''}`);
        groups.set(part, group);
      }
      parent = group;
    }
    const cmd = parent
      .command(def.path[def.path.length - 1]!)
      .description(def.summary)
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
      .showHelpAfterError('(run with --help for usage)');
    for (const a of def.args ?? []) cmd.argument(a);
    cmd.option('-c, --config <file>', 'JSON file with these settings (flags override it)');
    const names = addFieldOptions(cmd, def.fields);
    cmd.option('--json', 'print the result as one JSON document on stdout');
    cmd.option('-q, --quiet', 'no progress bars or notes on stderr');
    cmd.addHelpText(
      'after',
      `${def.details ? `\n${def.details}\n` : ''}\nExample${def.examples.length > 1 ? 's' : ''}:\n${def.examples.map((e) => `  $ ${e}`).join('\n')}`,
    );
    cmd.action(async (...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      const opts = command.opts();
      // Declared arguments are strings (no custom argument parsers), absent optional ones undefined.
      const args = command.processedArgs as string[];
      const out = new Output(io, { json: opts['json'] === true, quiet: opts['quiet'] === true });
      const settings = await resolveSettings(def.fields, names, opts, io.cwd);
      await def.run({ out, io, signal }, args, settings);
    });
  }
  return program;
}

/**
 * Runs `mlship` with the given arguments and returns the exit code: 0 success, 1 runtime error,
 * 2 usage error, 3 quality gate failed. Nothing calls `process.exit`, so it can be embedded and
 * tested in-process; errors are printed on `io.stderr` (and as `{"error": ...}` on stdout with
 * `--json`).
 *
 * @param argv - the arguments after the program name, e.g. `['registry', 'list', '--json']`
 * @param io - streams, environment and working directory (default: the process's)
 * @param options - `signal` aborts long work (training) like Ctrl-C
 * @returns the exit code
 * @throws never (every error becomes an exit code and a message)
 * @example
 * ```ts
 * import { runCli } from '@mlship/cli';
 * const code = await runCli(['registry', 'list', '--registry', './reg', '--json']);
 * ```
 */
export async function runCli(
  argv: readonly string[],
  io: Partial<CliIo> = {},
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const full = defaultIo(io);
  const program = build(full, options.signal ?? new AbortController().signal, COMMANDS);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_CODES.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT_CODES.ok;
      // `mlship` or `mlship registry` without a subcommand prints help and exits 1 in commander.
      if (e.code === 'commander.executeSubCommandAsync') return EXIT_CODES.ok;
      return EXIT_CODES.usage;
    }
    const code = exitCodeOf(e);
    const json = argv.includes('--json');
    if (json)
      full.stdout.write(
        `${JSON.stringify({ error: isMlshipError(e) ? e.toJSON() : { message: String(e) } }, null, 2)}\n`,
      );
    const text = isMlshipError(e)
      ? `${e.code}: ${e.message}`
      : e instanceof Error
        ? (e.stack ?? e.message)
        : String(e);
    full.stderr.write(`mlship: error: ${text}\n`);
    return code;
  }
}
