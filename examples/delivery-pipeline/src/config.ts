import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ShiftSpec } from '@mlship/data';

/** Everything the pipeline can be told; `defaults()` is what `pnpm start` runs. */
export interface PipelineConfig {
  /** The folder everything goes into (printed at the start and the end). */
  out: string;
  /** Stage 1: MNIST training images [start, end) for the base model, and its epochs. */
  base: { start: number; end: number; epochs: number };
  /** Stage 1: MNIST test images the base model is evaluated on (and the drift reference). */
  testCount: number;
  /** Stage 3: the new data — MNIST training images [start, end) with a domain shift — and its holdout size. */
  next: { start: number; end: number; holdout: number; shift: ShiftSpec };
  /** Stage 4: the transfer strategy, its epochs and learning rate, and the quality gate's margin. */
  transfer: { strategy: 'fineTune' | 'freeze' | 'scratch'; epochs: number; learningRate: number };
  gate: { margin: number };
  /** Training worker threads beside the main thread ('auto' = cores - 1). */
  workers: number | 'auto';
  seed: number;
  /** Stage 6: push the image here (`host:port/repo:tag`) when given. */
  pushTo: string | undefined;
  /** Print the summary as JSON on stdout instead of a table. */
  json: boolean;
}

/**
 * A scanner that rotates every image by 25–45 degrees and adds sensor noise: the base model's
 * accuracy drops by about a quarter on it (measured, README), and fine-tuning recovers it.
 */
export const DEFAULT_SHIFT: ShiftSpec = {
  kind: 'compose',
  shifts: [
    { kind: 'rotate', degrees: [25, 45] },
    { kind: 'noise', sigma: 0.2 },
  ],
};

/** The built-in defaults: the numbers (10,000 + 10,000 MNIST images). */
export function defaults(): PipelineConfig {
  return {
    out: '',
    base: { start: 0, end: 10_000, epochs: 3 },
    testCount: 10_000,
    next: { start: 10_000, end: 20_000, holdout: 2_000, shift: DEFAULT_SHIFT },
    transfer: { strategy: 'fineTune', epochs: 2, learningRate: 0.001 },
    gate: { margin: 0.01 },
    workers: 'auto',
    seed: 1,
    pushTo: undefined,
    json: false,
  };
}

/** The reduced budget the project's CI runs (`--budget ci`): the same stages on fewer images. */
export function ciBudget(c: PipelineConfig): PipelineConfig {
  return {
    ...c,
    base: { start: 0, end: 3_000, epochs: 1 },
    testCount: 1_000,
    next: { ...c.next, start: 10_000, end: 13_000, holdout: 600 },
    transfer: { ...c.transfer, epochs: 1 },
    workers: 0,
  };
}

export const USAGE = `usage: pnpm --filter @mlship/example-delivery-pipeline start [-- options]
  --out DIR             folder for everything the run makes (default: a new folder under the OS temp dir)
  --budget full|ci      full: the defaults below; ci: 3,000 + 3,000 images, 1 epoch each (default full)
  --base-epochs N       epochs of the base model (default 3)
  --strategy S          fineTune | freeze | scratch (default fineTune)
  --transfer-epochs N   epochs of the transfer run (default 2)
  --margin X            the quality gate: the candidate must beat production by X accuracy (default 0.01)
  --workers N|auto      training worker threads beside the main thread (default auto = cores - 1)
  --seed N              seed of weights, shuffling and the shift (default 1)
  --push REF            also push the image, e.g. 127.0.0.1:5000/mlship/cnn-server:v2
  --json                print the summary as JSON on stdout
exit codes: 0 done, 1 failed, 2 bad option, 3 the quality gate refused the candidate`;

export class UsageError extends Error {}

function int(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < min)
    throw new UsageError(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

/** Reads the command line over the defaults. */
export function readConfig(argv: readonly string[]): PipelineConfig | 'help' {
  const { values } = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : [...argv],
    options: {
      out: { type: 'string' },
      budget: { type: 'string' },
      'base-epochs': { type: 'string' },
      strategy: { type: 'string' },
      'transfer-epochs': { type: 'string' },
      margin: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      push: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const budget = values.budget ?? 'full';
  if (budget !== 'full' && budget !== 'ci')
    throw new UsageError(`--budget: expected full or ci, got ${JSON.stringify(budget)}`);
  let c = budget === 'ci' ? ciBudget(defaults()) : defaults();
  const strategy = values.strategy ?? c.transfer.strategy;
  if (strategy !== 'fineTune' && strategy !== 'freeze' && strategy !== 'scratch')
    throw new UsageError(
      `--strategy: expected fineTune, freeze or scratch, got ${JSON.stringify(strategy)}`,
    );
  const margin = values.margin === undefined ? c.gate.margin : Number(values.margin);
  if (!Number.isFinite(margin) || margin < -1 || margin > 1)
    throw new UsageError(
      `--margin: expected a number in [-1, 1], got ${JSON.stringify(values.margin)}`,
    );
  const workersRaw = values.workers;
  const workers =
    workersRaw === undefined
      ? c.workers
      : workersRaw === 'auto'
        ? 'auto'
        : int('workers', workersRaw, 0, 0);
  c = {
    ...c,
    out: path.resolve(values.out ?? ''),
    base: { ...c.base, epochs: int('base-epochs', values['base-epochs'], c.base.epochs) },
    transfer: {
      ...c.transfer,
      strategy,
      epochs: int('transfer-epochs', values['transfer-epochs'], c.transfer.epochs),
    },
    gate: { margin },
    workers,
    seed: int('seed', values.seed, c.seed, 0),
    pushTo: values.push,
    json: values.json === true,
  };
  if (values.out === undefined) c.out = '';
  return c;
}

/** Where a run without `--out` writes: a fresh folder under the OS temp dir. */
export function defaultOutParent(): string {
  return path.join(os.tmpdir(), 'mlship');
}
