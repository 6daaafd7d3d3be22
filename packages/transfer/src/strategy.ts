import { TransferError, show } from './errors';

/**
 * Which layers of a model a strategy freezes (or replaces), as JSON:
 *
 * - `'features'` / `'head'`: the groups of a model built from an @mlship/model spec (layer names
 *   starting `features_` — up to and including the flatten — or `head_`);
 * - `{ type: 'conv2d' }` or `{ type: ['conv2d', 'batchNormalization'] }`: every layer of these types
 *   (spec type names, or TensorFlow.js class names such as `Conv2D`; case-insensitive);
 * - `{ name: 'features_conv1' }` or `{ name: [...] }`: these layers;
 * - `{ range: [start, end] }`: layers `start` (inclusive) to `end` (exclusive), counted without the
 *   input layer, so index `i` is layer `i` of the spec;
 * - an array of selections: their union.
 *
 * A selection that names no layer of the model fails with `INVALID_STRATEGY` naming the field.
 */
export type LayerSelection =
  | 'features'
  | 'head'
  | { type: string | readonly string[] }
  | { name: string | readonly string[] }
  | { range: readonly [number, number] }
  | readonly LayerSelection[];

/** Fields every strategy may carry. */
export interface StrategyBase {
  /**
   * Label of this strategy in an experiment, reports and run file names (default: its `kind`);
   * letters, digits, `.`, `_`, `-`, at most 64 characters. Two variants of one kind need two names.
   */
  name?: string;
  /** Learning rate of this strategy's training (default: the run's `learningRate`). */
  learningRate?: number;
}

/** Same topology as the base, fresh (seeded) weights, every layer trained: the baseline. */
export interface ScratchStrategy extends StrategyBase {
  kind: 'scratch';
}

/** The base's weights, every layer trained (often at a lower `learningRate`). */
export interface FineTuneStrategy extends StrategyBase {
  kind: 'fineTune';
}

/** The base's weights; the selected layers (default `'features'`) frozen, the rest trained. */
export interface FreezeStrategy extends StrategyBase {
  kind: 'freeze';
  /** Layers to freeze (default `'features'`). */
  layers?: LayerSelection;
}

/**
 * A new number of classes: the base's feature layers kept, the `head` layers built afresh (seeded)
 * with an output layer of `classes` units; then the head (default) or everything is trained.
 */
export interface ReplaceHeadStrategy extends StrategyBase {
  kind: 'replaceHead';
  /** Classes of the new output layer (default: the target training set's class count). */
  classes?: number;
  /** Layers re-initialised; must include the model's last (output, dense) layer (default `'head'`). */
  head?: LayerSelection;
  /** `'head'`: freeze every other layer (default); `'all'`: train every layer. */
  train?: 'head' | 'all';
}

/**
 * Phase 1: the selected layers (default `'features'`) frozen, the rest trained; phase 2: everything
 * unfrozen and fine-tuned at `fineTuneLearningRate`. Both phases share the one budget.
 */
export interface TwoPhaseStrategy extends StrategyBase {
  kind: 'twoPhase';
  /** Layers frozen in phase 1 (default `'features'`). */
  layers?: LayerSelection;
  /** Share of the budget (epochs, or seconds) spent in phase 1, in (0, 1) (default 0.5). */
  headShare?: number;
  /** Learning rate of phase 2 (default: a tenth of phase 1's). */
  fineTuneLearningRate?: number;
}

/**
 * `freeze` computed once: the frozen layers (default `'features'`; they must be the model's first
 * layers) run once over the training and validation data, the rest trains on the cached outputs,
 * and the full model is reassembled from the same layers. Same result as `freeze` for the same seed
 * (up to float rounding) when the frozen part has no dropout, at a fraction of the cost per epoch.
 */
export interface FeatureCacheStrategy extends StrategyBase {
  kind: 'featureCache';
  /** The frozen prefix of the model (default `'features'`). */
  layers?: LayerSelection;
}

/** A transfer strategy: plain JSON, stored in `mlship.json` `strategy` of the model it makes. */
export type Strategy =
  | ScratchStrategy
  | FineTuneStrategy
  | FreezeStrategy
  | ReplaceHeadStrategy
  | TwoPhaseStrategy
  | FeatureCacheStrategy;

/** The `kind` of a {@link Strategy}. */
export type StrategyKind = Strategy['kind'];

/**
 * Every strategy kind, in the order reports list them.
 *
 * @example
 * ```ts
 * STRATEGY_KINDS.includes('featureCache'); // true
 * ```
 */
export const STRATEGY_KINDS: readonly StrategyKind[] = [
  'scratch',
  'fineTune',
  'freeze',
  'replaceHead',
  'twoPhase',
  'featureCache',
];

const COMMON = ['kind', 'name', 'learningRate'];
const KEYS: Record<StrategyKind, readonly string[]> = {
  scratch: COMMON,
  fineTune: COMMON,
  freeze: [...COMMON, 'layers'],
  replaceHead: [...COMMON, 'classes', 'head', 'train'],
  twoPhase: [...COMMON, 'layers', 'headShare', 'fineTuneLearningRate'],
  featureCache: [...COMMON, 'layers'],
};

const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function fail(path: string, expected: string, got: unknown): never {
  throw new TransferError('INVALID_STRATEGY', `${path}: expected ${expected}, got ${show(got)}`, {
    data: { path },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positive(v: unknown, path: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) fail(path, 'a positive number', v);
}

function stringList(v: unknown, path: string): void {
  if (typeof v === 'string') {
    if (v === '') fail(path, 'a non-empty string', v);
    return;
  }
  if (!Array.isArray(v) || v.length === 0)
    fail(path, 'a string or a non-empty array of strings', v);
  v.forEach((item, i) => {
    if (typeof item !== 'string' || item === '') fail(`${path}[${i}]`, 'a non-empty string', item);
  });
}

/**
 * Checks the shape of a {@link LayerSelection} (not yet against a model: see `selectLayers`).
 *
 * @param value - the selection
 * @param path - its field path for messages (default `'layers'`)
 * @returns the value typed as a selection
 * @throws {@link TransferError} `INVALID_STRATEGY` naming the field and what was expected
 * @example
 * ```ts
 * validateSelection({ type: ['conv2d'] }, 'strategies[1].layers');
 * ```
 */
export function validateSelection(value: unknown, path = 'layers'): LayerSelection {
  if (value === 'features' || value === 'head') return value;
  if (Array.isArray(value)) {
    if (value.length === 0) fail(path, 'a non-empty array of selections', value);
    value.forEach((item, i) => validateSelection(item, `${path}[${i}]`));
    return value as LayerSelection;
  }
  if (!isObject(value)) {
    fail(
      path,
      "'features', 'head', {type}, {name}, {range: [start, end]} or an array of these",
      value,
    );
  }
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    fail(path, 'an object with exactly one of the keys type, name, range', value);
  }
  const key = keys[0]!;
  if (key === 'type' || key === 'name') stringList(value[key], `${path}.${key}`);
  else if (key === 'range') {
    const r = value['range'];
    if (
      !Array.isArray(r) ||
      r.length !== 2 ||
      !r.every((n) => Number.isInteger(n) && (n as number) >= 0) ||
      !((r[0] as number) < (r[1] as number))
    ) {
      fail(`${path}.range`, '[start, end] with integers 0 <= start < end', r);
    }
  } else fail(`${path}.${key}`, 'one of the keys type, name, range', key);
  return value as LayerSelection;
}

/**
 * Checks that a value is a well-formed {@link Strategy}: a known `kind`, only that kind's fields,
 * each of the right type. Layer selections are checked for shape here and against the base model
 * when the strategy is applied.
 *
 * @param value - the strategy (e.g. parsed from a preset JSON file)
 * @param path - its field path for messages (default `'strategy'`)
 * @returns the value typed as a strategy
 * @throws {@link TransferError} `INVALID_STRATEGY` naming the field (`data.path`) and what was expected
 * @example
 * ```ts
 * validateStrategy({ kind: 'freeze', layers: { type: 'conv2d' } });
 * validateStrategy({ kind: 'freez' }); // throws: strategy.kind: expected one of 'scratch', ...
 * ```
 */
export function validateStrategy(value: unknown, path = 'strategy'): Strategy {
  if (!isObject(value)) fail(path, 'a strategy object such as {"kind": "fineTune"}', value);
  const kind = value['kind'];
  if (typeof kind !== 'string' || !(STRATEGY_KINDS as readonly string[]).includes(kind)) {
    fail(`${path}.kind`, `one of ${STRATEGY_KINDS.map((k) => `'${k}'`).join(', ')}`, kind);
  }
  const accepted = KEYS[kind as StrategyKind];
  for (const key of Object.keys(value)) {
    if (!accepted.includes(key)) {
      throw new TransferError(
        'INVALID_STRATEGY',
        `${path}.${key}: unknown field of a '${kind}' strategy; accepted: ${accepted.join(', ')}`,
        { data: { path: `${path}.${key}`, accepted: [...accepted] } },
      );
    }
  }
  const name = value['name'];
  if (name !== undefined && (typeof name !== 'string' || !LABEL_RE.test(name))) {
    fail(`${path}.name`, 'letters, digits, ".", "_" or "-" (at most 64 characters)', name);
  }
  if (value['learningRate'] !== undefined) positive(value['learningRate'], `${path}.learningRate`);
  if (value['layers'] !== undefined) validateSelection(value['layers'], `${path}.layers`);
  if (value['head'] !== undefined) validateSelection(value['head'], `${path}.head`);
  const classes = value['classes'];
  if (classes !== undefined && (!Number.isInteger(classes) || (classes as number) < 2)) {
    fail(`${path}.classes`, 'an integer >= 2', classes);
  }
  const trainPart = value['train'];
  if (trainPart !== undefined && trainPart !== 'head' && trainPart !== 'all') {
    fail(`${path}.train`, "'head' or 'all'", trainPart);
  }
  const share = value['headShare'];
  if (share !== undefined && (typeof share !== 'number' || !(share > 0 && share < 1))) {
    fail(`${path}.headShare`, 'a number in (0, 1)', share);
  }
  if (value['fineTuneLearningRate'] !== undefined) {
    positive(value['fineTuneLearningRate'], `${path}.fineTuneLearningRate`);
  }
  return value as unknown as Strategy;
}

/**
 * The label of a strategy in experiments and reports: its `name`, else its `kind`.
 *
 * @param strategy - a strategy
 * @returns the label
 * @throws never
 * @example
 * ```ts
 * strategyLabel({ kind: 'fineTune', name: 'fineTune-lr1e-4' }); // 'fineTune-lr1e-4'
 * ```
 */
export function strategyLabel(strategy: Strategy): string {
  return strategy.name ?? strategy.kind;
}

/**
 * The strategy with its defaults written out (what `mlship.json` records): `layers: 'features'`
 * for freeze / twoPhase / featureCache, `head: 'head'` and `train: 'head'` for replaceHead,
 * `headShare: 0.5` for twoPhase. Defaults that depend on the run (learning rates, classes) are
 * filled when the strategy is applied.
 *
 * @param strategy - a valid strategy
 * @returns a new object; the input is not changed
 * @throws {@link TransferError} `INVALID_STRATEGY` for an invalid strategy
 * @example
 * ```ts
 * withDefaults({ kind: 'freeze' }); // { kind: 'freeze', layers: 'features' }
 * ```
 */
export function withDefaults(strategy: Strategy): Strategy {
  const s = validateStrategy(structuredClone(strategy));
  switch (s.kind) {
    case 'freeze':
    case 'featureCache':
      return { ...s, layers: s.layers ?? 'features' };
    case 'twoPhase':
      return { ...s, layers: s.layers ?? 'features', headShare: s.headShare ?? 0.5 };
    case 'replaceHead':
      return { ...s, head: s.head ?? 'head', train: s.train ?? 'head' };
    default:
      return s;
  }
}
