import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { validateDataset } from './dataset';
import type { ImageDataset } from './types';

/**
 * Version of the fingerprint's canonical header; bumped if the hashed layout ever changes.
 *
 * @example
 * ```ts
 * const header = { format: FINGERPRINT_FORMAT, dtype: 'uint8', shape, classNames };
 * ```
 */
export const FINGERPRINT_FORMAT = 'mlship-dataset-fingerprint/1';

const LITTLE_ENDIAN = endianness() === 'LE';

/** Bytes of a typed array in little-endian order: a view on LE machines, a swapped copy on BE. */
function leBytes(a: Uint8Array | Float32Array | Int32Array): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN || a.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += 4) {
    out[i] = view[i + 3] as number;
    out[i + 1] = view[i + 2] as number;
    out[i + 2] = view[i + 1] as number;
    out[i + 3] = view[i] as number;
  }
  return out;
}

/**
 * A content hash of a dataset: `sha256:<hex>` over a canonical header (format version, dtype,
 * shape, class names, as one JSON line), then the image bytes, then the label bytes (both
 * little-endian). Order-sensitive: the same images in another order fingerprint differently.
 * Streams over the arrays' own memory (no copies on little-endian machines). The same data gives
 * the same fingerprint in every process and on every platform; any changed pixel, label or class
 * name changes it.
 *
 * @param ds - the dataset (validated first)
 * @returns `sha256:` followed by 64 hex digits
 * @throws DataError `INVALID_DATASET` / `LABEL_OUT_OF_RANGE` when the dataset is inconsistent
 * @example
 * ```ts
 * fingerprint(take(await loadMnist(), 10_000)); // 'sha256:...'
 * ```
 */
export function fingerprint(ds: ImageDataset): string {
  validateDataset(ds);
  const header = JSON.stringify({
    format: FINGERPRINT_FORMAT,
    dtype: ds.images instanceof Float32Array ? 'float32' : 'uint8',
    shape: [...ds.shape],
    classNames: [...ds.classNames],
  });
  const hash = createHash('sha256');
  hash.update(header + '\n', 'utf8');
  hash.update(leBytes(ds.images));
  hash.update(leBytes(ds.labels));
  return `sha256:${hash.digest('hex')}`;
}
