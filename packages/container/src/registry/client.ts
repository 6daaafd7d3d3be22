import { ContainerError, checkOptionKeys } from '../errors';
import { getBlob, hasBlob } from './blobs';
import { getManifest, headManifest, listTags, putManifest } from './manifests';
import { RegistryTransport, ping } from './transport';
import type { FetchedManifest, RegistryClientOptions, UploadResult } from './types';
import { uploadBlob } from './upload';

const CLIENT_OPTION_KEYS = [
  'credentials',
  'dockerConfig',
  'insecure',
  'chunkSize',
  'retries',
  'retryDelayMs',
  'onProgress',
  'fetch',
  'signal',
  'userAgent',
  'env',
] as const;

/** Checks the numeric options (unknown keys are checked by the caller). */
function checkClientOptions({ chunkSize, retries, retryDelayMs }: RegistryClientOptions): void {
  if (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize < 1)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `chunkSize: expected a positive integer number of bytes, got ${JSON.stringify(chunkSize)}`,
      {
        data: { path: 'chunkSize', actual: chunkSize },
      },
    );
  }
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > 20)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `retries: expected an integer 0..20, got ${JSON.stringify(retries)}`,
      {
        data: { path: 'retries', actual: retries },
      },
    );
  }
  if (retryDelayMs !== undefined && (!Number.isFinite(retryDelayMs) || retryDelayMs < 0)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `retryDelayMs: expected a non-negative number, got ${JSON.stringify(retryDelayMs)}`,
      {
        data: { path: 'retryDelayMs', actual: retryDelayMs },
      },
    );
  }
}

/**
 * A client of the OCI distribution API (what Docker Hub, GHCR, ECR, GAR, Harbor, Quay, Zot and the
 * CNCF `distribution` registry speak): anonymous, basic and bearer-token auth through the
 * `WWW-Authenticate` challenge, blob HEAD/GET (verified)/upload (monolithic or chunked, with
 * cross-repository mount), manifest GET/HEAD/PUT with the right media types, retries with backoff
 * on transient failures, progress events. Create it with {@link createRegistryClient}.
 *
 * The class is a facade: authentication lives in `authenticator.ts`, requests and retries in
 * `transport.ts`, and each family of operations in its own file (`blobs.ts`, `upload.ts`,
 * `manifests.ts`).
 *
 * @example
 * ```ts
 * const client = createRegistryClient({ credentials: { username: 'ci', password: token } });
 * const has = await client.hasBlob('ghcr.io', 'acme/cnn', digest);
 * ```
 */
export class RegistryClient {
  private readonly transport: RegistryTransport;

  /**
   * @param options - see {@link RegistryClientOptions}
   */
  constructor(options: RegistryClientOptions = {}) {
    checkOptionKeys(options, CLIENT_OPTION_KEYS, 'registry client options');
    checkClientOptions(options);
    this.transport = new RegistryTransport(options);
  }

  /** The base URL of a registry's API (`https://host/v2/`, plain HTTP for insecure hosts). */
  baseUrl(registry: string): string {
    return this.transport.baseUrl(registry);
  }

  /**
   * Checks that the registry speaks the distribution API (`GET /v2/`), authenticating if it asks.
   *
   * @param registry - registry host
   * @returns nothing
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * await createRegistryClient().ping('127.0.0.1:5000');
   * ```
   */
  ping(registry: string): Promise<void> {
    return ping(this.transport, registry);
  }

  /**
   * Whether the repository has a blob (HEAD).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param digest - the blob's digest
   * @returns true when the registry has it
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * if (await client.hasBlob('127.0.0.1:5000', 'demo', layer.descriptor.digest)) console.log('skip');
   * ```
   */
  hasBlob(registry: string, repository: string, digest: string): Promise<boolean> {
    return hasBlob(this.transport, registry, repository, digest);
  }

  /**
   * Downloads a blob and verifies it against its digest (and size, when given).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param digest - the blob's digest
   * @param size - its expected size, when known
   * @returns the verified bytes
   * @throws ContainerError `BLOB_NOT_FOUND`, `DIGEST_MISMATCH` (the bytes hash to something else),
   *   `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const bytes = await client.getBlob('127.0.0.1:5000', 'demo', manifest.config.digest);
   * ```
   */
  getBlob(
    registry: string,
    repository: string,
    digest: string,
    size?: number,
  ): Promise<Uint8Array> {
    return getBlob(this.transport, registry, repository, digest, size);
  }

  /**
   * Uploads a blob unless the repository already has it: HEAD first (skip), then a cross-repository
   * mount when `mountFrom` names a repository of the same registry that holds it, then a monolithic
   * upload (POST + PUT) or, for blobs larger than `chunkSize`, a chunked one (POST, PATCH per chunk
   * following each new `Location`, PUT). The registry checks the digest; a mismatch is refused.
   *
   * @param registry - registry host
   * @param repository - destination repository
   * @param source - the bytes, or a function reading them (called only when an upload is needed)
   * @param options - `digest` (default computed; required with a function), `size`, `mountFrom`
   *   (a repository on the same registry), `skipExisting` (default true: HEAD first)
   * @returns whether it existed, was mounted or was uploaded, and the bytes sent
   * @throws ContainerError `DIGEST_MISMATCH` (the registry computed another digest),
   *   `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const r = await client.uploadBlob('127.0.0.1:5000', 'demo', layer.data!, { mountFrom: 'base/node' });
   * console.log(r.status); // 'exists' | 'mounted' | 'uploaded'
   * ```
   */
  uploadBlob(
    registry: string,
    repository: string,
    source: Uint8Array | (() => Promise<Uint8Array>),
    options: { digest?: string; size?: number; mountFrom?: string; skipExisting?: boolean } = {},
  ): Promise<UploadResult> {
    return uploadBlob(this.transport, registry, repository, source, options);
  }

  /**
   * Fetches a manifest or index by tag or digest, with every manifest and index media type in
   * `Accept`; a manifest fetched by digest is verified against it.
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param reference - tag or digest
   * @returns the media type, exact bytes and digest
   * @throws ContainerError `MANIFEST_NOT_FOUND` (no such tag or digest), `DIGEST_MISMATCH`,
   *   `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const m = await client.getManifest('127.0.0.1:5000', 'demo', 'v1');
   * console.log(m.mediaType, m.digest);
   * ```
   */
  getManifest(registry: string, repository: string, reference: string): Promise<FetchedManifest> {
    return getManifest(this.transport, registry, repository, reference);
  }

  /**
   * HEADs a manifest: its digest and media type without the body, or undefined when absent.
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param reference - tag or digest
   * @returns `{ digest, mediaType, size }` or undefined for 404
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const head = await client.headManifest('127.0.0.1:5000', 'demo', 'v1');
   * ```
   */
  headManifest(
    registry: string,
    repository: string,
    reference: string,
  ): Promise<{ digest?: string; mediaType: string; size: number } | undefined> {
    return headManifest(this.transport, registry, repository, reference);
  }

  /**
   * Uploads a manifest under a tag or its digest, with its media type as `Content-Type` (a registry
   * reads a manifest without it as a different schema and refuses or mangles it).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param reference - tag, or the manifest's own digest
   * @param bytes - the manifest's exact bytes
   * @param mediaType - its media type
   * @returns the digest the registry stored it under (checked against the bytes'), and whether the
   *   registry processed a `subject` (answered `OCI-Subject`)
   * @throws ContainerError `DIGEST_MISMATCH`, `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   *   (e.g. `MANIFEST_BLOB_UNKNOWN` when a referenced blob is missing)
   * @example
   * ```ts
   * await client.putManifest('127.0.0.1:5000', 'demo', 'v1', image.manifestBytes, image.manifest.mediaType);
   * ```
   */
  putManifest(
    registry: string,
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; subjectAccepted: boolean }> {
    return putManifest(this.transport, registry, repository, reference, bytes, mediaType);
  }

  /**
   * Lists a repository's tags (`GET /v2/<name>/tags/list`, following `Link` pagination).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @returns the tags (empty for an unknown repository)
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * console.log(await client.listTags('127.0.0.1:5000', 'demo'));
   * ```
   */
  listTags(registry: string, repository: string): Promise<string[]> {
    return listTags(this.transport, registry, repository);
  }
}

/**
 * Creates a {@link RegistryClient}.
 *
 * @param options - credentials, Docker config file, insecure hosts, chunk size, retries, progress, transport
 * @returns the client
 * @throws ContainerError `INVALID_OPTION` for an unknown option or a bad value
 * @example
 * ```ts
 * import { createRegistryClient } from '@mlship/container';
 * const client = createRegistryClient({ chunkSize: 8 << 20, onProgress: (e) => console.log(e.action, e.digest) });
 * await client.ping('127.0.0.1:5000');
 * ```
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(options);
}
