import { ModelError } from '../errors';

/** Activation functions a layer may use (a subset of TensorFlow.js' names that every backend runs). */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'softplus'
  | 'swish';

/**
 * The activation names {@link validateSpec} accepts.
 *
 * @example
 * ```ts
 * import { ACTIVATIONS } from '@mlship/model';
 * console.log(ACTIVATIONS.includes('relu')); // true
 * ```
 */
export const ACTIVATIONS: readonly ActivationName[] = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'tanh',
  'softmax',
  'softplus',
  'swish',
];

/** A size given as one number (square) or `[height, width]`. */
export type Size2D = number | [number, number];

/**
 * Throws `INVALID_SPEC` as `<path>: expected <expected>, got <value>` with `data.path`.
 *
 * @internal
 */
export function fail(path: string, expected: string, got: unknown): never {
  throw new ModelError('INVALID_SPEC', `${path}: expected ${expected}, got ${show(got)}`, {
    data: { path },
  });
}

/** A short JSON rendering of a value for messages. @internal */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined; // circular
  }
  if (text === undefined)
    return `a ${typeof value === 'object' ? 'circular object' : typeof value}`;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** @internal */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @internal */
export function positiveInt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    fail(path, 'a positive integer', value);
  return value;
}

/** @internal */
export function size2d(value: unknown, path: string): [number, number] {
  if (typeof value === 'number') return [positiveInt(value, path), value];
  if (Array.isArray(value) && value.length === 2) {
    return [positiveInt(value[0], `${path}[0]`), positiveInt(value[1], `${path}[1]`)];
  }
  return fail(path, 'a positive integer or [height, width]', value);
}

/** `[height, width]` of a validated {@link Size2D}. @internal */
export function pair(size: Size2D): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/** Checks `obj[key]` with `check` when it is present. @internal */
export function optional<T>(
  obj: Record<string, unknown>,
  key: string,
  check: (v: unknown, p: string) => T,
  path: string,
): T | undefined {
  return obj[key] === undefined ? undefined : check(obj[key], `${path}.${key}`);
}

/** @internal */
export function activation(value: unknown, path: string): ActivationName {
  if (typeof value !== 'string' || !(ACTIVATIONS as readonly string[]).includes(value)) {
    fail(path, `one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as ActivationName;
}

/** @internal */
export function padding(value: unknown, path: string): 'valid' | 'same' {
  if (value !== 'valid' && value !== 'same') fail(path, "'valid' or 'same'", value);
  return value;
}

/** @internal */
export function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'a boolean', value);
  return value;
}

/** A number in [0, 1) (or (0, 1) without `inclusiveZero`). @internal */
export function fraction(
  value: unknown,
  path: string,
  inclusiveZero: boolean,
  what: string,
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value >= 1 ||
    value < 0 ||
    (!inclusiveZero && value === 0)
  ) {
    fail(path, what, value);
  }
  return value;
}

/** Output length of a convolution/pooling window along one axis (Keras semantics). @internal */
export function windowOut(
  size: number,
  window: number,
  stride: number,
  pad: 'valid' | 'same',
): number {
  return pad === 'same' ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}
