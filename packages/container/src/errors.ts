import { MlshipError, SHARED_ERROR_CODES, checkOptions, errorGuard } from '@mlship/core';

/**
 * Every code a {@link ContainerError} can carry: the shared vocabulary of @mlship/core plus this
 * package's own.
 *
 * - `INVALID_REFERENCE`: an image reference (`registry/repo:tag@digest`) does not parse.
 * - `REGISTRY_UNREACHABLE`: the registry did not answer (connection refused, DNS, timeout), after retries.
 * - `AUTH_FAILED`: the registry or its token service refused the credentials (401/403).
 * - `DIGEST_MISMATCH`: bytes read or uploaded do not hash to the digest they were addressed by.
 * - `MANIFEST_NOT_FOUND`: no manifest for that tag or digest (e.g. a missing base tag).
 * - `BLOB_NOT_FOUND`: the registry has no blob with that digest.
 * - `PLATFORM_NOT_FOUND`: a multi-platform index has no image for the requested platform.
 * - `REGISTRY_ERROR`: the registry answered with an unexpected status (`data.status`, `data.body`).
 * - `INVALID_IMAGE`: a manifest, config, OCI layout or docker-archive is malformed or unsupported.
 * - `DEPENDENCY_NOT_FOUND`: a package of the server's production closure is not installed.
 * - `COMMAND_FAILED`: a host command the base-image builder runs (`ldd`) failed.
 *
 * @example
 * ```ts
 * import { CONTAINER_ERROR_CODES } from '@mlship/container';
 * CONTAINER_ERROR_CODES.includes('DIGEST_MISMATCH'); // true
 * ```
 */
export const CONTAINER_ERROR_CODES = [
  ...SHARED_ERROR_CODES,
  'INVALID_REFERENCE',
  'REGISTRY_UNREACHABLE',
  'AUTH_FAILED',
  'DIGEST_MISMATCH',
  'MANIFEST_NOT_FOUND',
  'BLOB_NOT_FOUND',
  'PLATFORM_NOT_FOUND',
  'REGISTRY_ERROR',
  'INVALID_IMAGE',
  'DEPENDENCY_NOT_FOUND',
  'COMMAND_FAILED',
] as const;

/** One of {@link CONTAINER_ERROR_CODES}. */
export type ContainerErrorCode = (typeof CONTAINER_ERROR_CODES)[number];

/**
 * The one error class @mlship/container throws: a stable `code`, a message naming what failed and
 * what was expected, JSON-ready `data` (`path`, `reference`, `digest`, `status`, `url`, ...) and the
 * underlying `cause`.
 *
 * @example
 * ```ts
 * import { pushImage, isContainerError } from '@mlship/container';
 * try {
 *   await pushImage(image, '127.0.0.1:5000/demo:v1');
 * } catch (e) {
 *   if (isContainerError(e) && e.code === 'AUTH_FAILED') console.error('log in first');
 * }
 * ```
 */
export class ContainerError extends MlshipError<ContainerErrorCode> {
  override name = 'ContainerError';
}

/**
 * Type guard for {@link ContainerError} (also true for a copy from another install of the package).
 *
 * @param e - anything caught
 * @returns whether `e` is a ContainerError
 * @throws never
 * @example
 * ```ts
 * if (isContainerError(e)) console.error(e.code, e.data);
 * ```
 */
export const isContainerError: (e: unknown) => e is ContainerError = errorGuard(
  'ContainerError',
  ContainerError,
);

/** core's `checkOptions`, throwing {@link ContainerError}. @internal */
export function checkOptionKeys(
  options: unknown,
  accepted: readonly string[],
  where: string,
): void {
  checkOptions(options, accepted, where, ContainerError);
}
