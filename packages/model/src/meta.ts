import { MODEL_META_FILE, validateModelMeta as validateCoreMeta } from '@mlship/core';
import type { ModelMeta as CoreModelMeta } from '@mlship/core';
import { asModelError } from './errors';
import type { ModelSpec } from './spec';

/**
 * The content of `mlship.json` (format `mlship-model/1`, defined by @mlship/core) with `spec`
 * typed as this package's {@link ModelSpec} (null when the model was not built from a spec; read
 * back as written, not re-validated). Unknown keys are kept.
 */
export type ModelMeta = CoreModelMeta<ModelSpec>;

/**
 * Checks parsed `mlship.json` content against format `mlship-model/1` (@mlship/core's
 * `validateModelMeta`, the same check the registry and the server run), throwing this package's
 * error class.
 *
 * @param value - the parsed JSON
 * @param file - the file path for messages (default `mlship.json`)
 * @returns the value typed as {@link ModelMeta}
 * @throws {@link ModelError} `INVALID_META` naming the field (`data.field`) and what was expected
 * @example
 * ```ts
 * import { validateModelMeta } from '@mlship/model';
 * try {
 *   validateModelMeta({ format: 'mlship-model/1', name: 'Bad Name' });
 * } catch (e) {
 *   console.log((e as Error).message); // mlship.json: name: expected a name: lowercase [a-z0-9] ...
 * }
 * ```
 */
export function validateModelMeta(value: unknown, file: string = MODEL_META_FILE): ModelMeta {
  try {
    return asModelMeta(validateCoreMeta(value, file));
  } catch (e) {
    throw asModelError(e, { code: 'INVALID_META', message: `${file}: invalid` });
  }
}

/**
 * Core's metadata, with `spec` read as this package's spec type.
 *
 * @internal
 */
export function asModelMeta(meta: CoreModelMeta): ModelMeta {
  return meta as unknown as ModelMeta;
}
