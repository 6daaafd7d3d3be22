import { sha256Hex } from '@mlship/core';
import { ContainerError } from './errors';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/**
 * The OCI digest of some bytes: `sha256:<64 hex>`.
 *
 * @param data - the bytes
 * @returns the digest
 * @throws never
 * @example
 * ```ts
 * sha256Digest(new TextEncoder().encode('{}')); // 'sha256:44136fa3...'
 * ```
 */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${sha256Hex(data)}`;
}

/**
 * Whether a string is a sha256 digest this package can verify (`sha256:` + 64 lowercase hex).
 *
 * @param value - anything
 * @returns true for a valid digest
 * @throws never
 * @example
 * ```ts
 * isDigest('sha256:' + 'a'.repeat(64)); // true
 * ```
 */
export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** The hex part of a digest. @internal */
export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/**
 * Throws DIGEST_MISMATCH unless `data` hashes to `digest` (and, when given, has `size` bytes).
 * @internal
 */
export function verifyDigest(data: Uint8Array, digest: string, what: string, size?: number): void {
  if (size !== undefined && data.byteLength !== size) {
    throw new ContainerError(
      'DIGEST_MISMATCH',
      `${what}: expected ${size} bytes for ${digest}, got ${data.byteLength}`,
      { data: { digest, expected: size, actual: data.byteLength } },
    );
  }
  const actual = sha256Digest(data);
  if (actual !== digest) {
    throw new ContainerError('DIGEST_MISMATCH', `${what}: expected ${digest}, got ${actual}`, {
      data: { digest, expected: digest, actual },
    });
  }
}

/** Canonical JSON bytes of a manifest/config: what its digest is computed over. @internal */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
