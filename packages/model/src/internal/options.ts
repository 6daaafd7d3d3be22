import { ModelError } from '../errors';

/** `INVALID_OPTION` as `<path>: expected <expected>, got <value>`. @internal */
export function optionError(path: string, expected: string, got: unknown): ModelError {
  return new ModelError(
    'INVALID_OPTION',
    `${path}: expected ${expected}, got ${typeof got === 'function' ? 'a function' : JSON.stringify(got)}`,
    { data: { path } },
  );
}

/**
 * `value ?? fallback`, checked to be a positive integer (an option such as `batchSize`).
 *
 * @throws {@link ModelError} `INVALID_OPTION` naming the option (`data.path`) otherwise
 * @internal
 */
export function positiveIntOption(
  value: number | undefined,
  name: string,
  fallback: number,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) {
    throw new ModelError(
      'INVALID_OPTION',
      `${name}: expected a positive integer, got ${String(v)}`,
      {
        data: { path: name },
      },
    );
  }
  return v;
}
