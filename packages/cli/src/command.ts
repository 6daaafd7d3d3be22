import type { Field, Settings } from './fields';
import type { CliIo, Output } from './output';

/** What a command's `run` gets: where to write, the environment, and a signal for Ctrl-C. */
export interface CommandContext {
  out: Output;
  io: CliIo;
  signal: AbortSignal;
}

/**
 * One `mlship` command: its path (`['registry', 'list']`), positional arguments, settings
 * (config file keys and flags), an example for `--help`, and what it does.
 */
export interface CommandDef {
  /** Path of names, e.g. `['train']` or `['registry', 'diff']`. */
  path: readonly string[];
  /** Commander argument syntax, e.g. `['<ref>', '[dir]']`. */
  args?: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** Extra paragraphs for `--help`. */
  details?: string;
  /** Example command lines (without the leading `$ `), shown by `--help`. */
  examples: readonly string[];
  /** Settings: config file keys and flags. */
  fields: readonly Field[];
  /** Does the work; writes through `ctx.out`. */
  run(ctx: CommandContext, args: readonly string[], settings: Settings): Promise<void>;
}

/** The settings every TensorFlow.js command shares. */
export const BACKEND_FIELD: Field = {
  key: 'backend',
  flag: '--backend <name>',
  help: 'TensorFlow.js backend: auto, wasm, cpu or tensorflow (tfjs-node)',
  type: { kind: 'enum', values: ['auto', 'wasm', 'cpu', 'tensorflow'] },
  default: 'auto',
};

/** The git registry directory setting. */
export const REGISTRY_FIELD: Field = {
  key: 'registry',
  flag: '--registry <dir>',
  help: 'the git registry (a working tree or bare repository)',
  type: { kind: 'string' },
  default: '.',
};

/**
 * Reads a setting with its type (the settings were checked against their fields).
 *
 * @internal
 */
export function get<T>(settings: Settings, key: string): T {
  return settings[key] as T;
}
