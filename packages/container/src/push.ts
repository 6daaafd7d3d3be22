import { ContainerError, checkOptionKeys } from './errors';
import { digestHex, jsonBytes, sha256Digest } from './digest';
import type { Artifact, Image } from './image';
import type { Blob } from './layer';
import { MEDIA_TYPES } from './media-types';
import { formatReference, parseReference } from './reference';
import { createRegistryClient } from './registry/client';
import type { RegistryClient } from './registry/client';
import type { UploadResult } from './registry/types';
import type { Descriptor, ImageIndex } from './types';

/** Options of {@link pushImage}. */
export interface PushImageOptions {
  /** The client (credentials, retries, chunking, progress); default: a client with default options. */
  client?: RegistryClient;
  /** More tags to point at the same manifest (e.g. `['latest']`). */
  tags?: string[];
  /** Blobs uploaded at once (default 3). */
  concurrency?: number;
  /** Push the image's referrers (its SBOM) too (default true). */
  referrers?: boolean;
}

/** What happened to one blob of a push. */
export interface PushedBlob {
  /** Its digest. */
  digest: string;
  /** Its size. */
  size: number;
  /** Its media type. */
  mediaType: string;
  /** `exists` (skipped), `mounted` or `uploaded`. */
  status: UploadResult['status'];
}

/** What {@link pushImage} did. */
export interface PushResult {
  /** `registry/repository@sha256:...`: the pushed image by digest. */
  reference: string;
  /** The manifest digest. */
  digest: string;
  /** The tags now pointing at it. */
  tags: string[];
  /** Every blob of the image (layers then config), with what happened to it. */
  blobs: PushedBlob[];
  /** Bytes of blobs uploaded (skipped and mounted blobs count 0), manifests included. */
  bytesUploaded: number;
  /** Digests of the referrer manifests pushed (the SBOM). */
  referrers: string[];
}

async function pool<T, R>(
  items: readonly T[],
  limit: number,
  f: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failed: Error | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await f(items[i] as T);
      } catch (e) {
        failed ??= e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker()),
  );
  if (failed !== undefined) throw failed;
  return out;
}

async function pushBlob(
  client: RegistryClient,
  registry: string,
  repository: string,
  blob: Blob,
): Promise<PushedBlob> {
  const { digest, size, mediaType } = blob.descriptor;
  // A pulled base layer on the same registry is mounted from its repository, never downloaded.
  const mountFrom = blob.origin?.registry === registry ? blob.origin.repository : undefined;
  const result = await client.uploadBlob(registry, repository, blob.data ?? (() => blob.read()), {
    digest,
    size,
    ...(mountFrom === undefined ? {} : { mountFrom }),
  });
  return { digest, size, mediaType, status: result.status };
}

const REFERRERS_TAG = (digest: string): string => `sha256-${digestHex(digest)}`;

/**
 * Pushes an artifact that refers to an image (its `subject`). Registries with the referrers API
 * index it themselves (they answer `OCI-Subject`); for the others the referrers tag
 * `sha256-<image digest hex>` is updated to an index listing it (distribution-spec 1.1 fallback).
 */
async function pushArtifact(
  client: RegistryClient,
  registry: string,
  repository: string,
  subject: string,
  artifact: Artifact,
  concurrency: number,
): Promise<{ bytes: number }> {
  let bytes = 0;
  const pushed = await pool(artifact.blobs, concurrency, (b) =>
    pushBlob(client, registry, repository, b),
  );
  for (const [i, p] of pushed.entries())
    if (p.status === 'uploaded') bytes += artifact.blobs[i]?.descriptor.size ?? 0;
  const existed = (await client.headManifest(registry, repository, artifact.digest)) !== undefined;
  const put = await client.putManifest(
    registry,
    repository,
    artifact.digest,
    artifact.manifestBytes,
    artifact.manifest.mediaType,
  );
  if (!existed) bytes += artifact.manifestBytes.byteLength;
  if (put.subjectAccepted) return { bytes };
  const tag = REFERRERS_TAG(subject);
  let index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  try {
    const current = await client.getManifest(registry, repository, tag);
    const parsed = JSON.parse(new TextDecoder().decode(current.bytes)) as ImageIndex;
    if (Array.isArray(parsed.manifests))
      index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: parsed.manifests };
  } catch (e) {
    if (!(e instanceof ContainerError && e.code === 'MANIFEST_NOT_FOUND')) throw e;
  }
  if (index.manifests.some((d) => d.digest === artifact.digest)) return { bytes };
  const d: Descriptor = {
    mediaType: artifact.manifest.mediaType,
    digest: artifact.digest,
    size: artifact.manifestBytes.byteLength,
  };
  if (artifact.manifest.artifactType !== undefined) d.artifactType = artifact.manifest.artifactType;
  if (artifact.manifest.annotations !== undefined) d.annotations = artifact.manifest.annotations;
  index.manifests.push(d);
  const indexBytes = jsonBytes(index);
  await client.putManifest(registry, repository, tag, indexBytes, MEDIA_TYPES.ociIndex);
  return { bytes: bytes + indexBytes.byteLength };
}

/**
 * Pushes an image to a registry: every blob the repository lacks is uploaded (HEAD first: blobs it
 * has are skipped; a pulled base's layers are mounted from their repository on the same registry
 * without downloading them), then the manifest is put under the tag (and `tags`), then the
 * artifacts that refer to the image (its SBOM). The tag is written only after every blob is in
 * place, so a failed push never leaves it pointing at a partial image.
 *
 * @param image - the image
 * @param reference - where: `registry/repository[:tag]` (e.g. `127.0.0.1:5000/acme/cnn:v1`); a
 *   reference without a tag pushes by digest only
 * @param options - client, extra tags, concurrency, referrers
 * @returns the digest reference, the tags, what happened to each blob and the bytes uploaded
 * @throws ContainerError `INVALID_REFERENCE`, `REGISTRY_UNREACHABLE`, `AUTH_FAILED`,
 *   `DIGEST_MISMATCH`, `REGISTRY_ERROR`, and a base layer's read errors
 * @example
 * ```ts
 * const pushed = await pushImage(image, '127.0.0.1:5000/demo/hello:v1');
 * console.log(pushed.reference, pushed.bytesUploaded);
 * ```
 */
export async function pushImage(
  image: Image,
  reference: string,
  options: PushImageOptions = {},
): Promise<PushResult> {
  checkOptionKeys(options, ['client', 'tags', 'concurrency', 'referrers'], 'pushImage options');
  const ref = parseReference(reference);
  if (ref.digest !== undefined && ref.digest !== image.digest) {
    throw new ContainerError(
      'INVALID_REFERENCE',
      `${reference}: the digest does not match the image's (${image.digest})`,
      { data: { reference, expected: image.digest } },
    );
  }
  const explicitTag = /:[^/@]+(@|$)/.test(reference.slice(reference.lastIndexOf('/') + 1))
    ? ref.tag
    : undefined;
  const tags = [
    ...new Set([
      ...(explicitTag !== undefined
        ? [explicitTag]
        : ref.digest === undefined
          ? [ref.tag ?? 'latest']
          : []),
      ...(options.tags ?? []),
    ]),
  ];
  for (const t of tags) {
    if (!/^[\w][\w.-]{0,127}$/.test(t))
      throw new ContainerError(
        'INVALID_REFERENCE',
        `tag ${JSON.stringify(t)} is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`,
        { data: { reference: t } },
      );
  }
  const concurrency = options.concurrency ?? 3;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new ContainerError(
      'INVALID_OPTION',
      `concurrency: expected an integer 1..32, got ${JSON.stringify(concurrency)}`,
      { data: { path: 'concurrency' } },
    );
  }
  const client = options.client ?? createRegistryClient();
  const { registry, repository } = ref;
  const blobs: Blob[] = [...image.layers, image.configBlob];
  const pushed = await pool(blobs, concurrency, (b) => pushBlob(client, registry, repository, b));
  let bytesUploaded = pushed.filter((p) => p.status === 'uploaded').reduce((a, p) => a + p.size, 0);
  const existed = (await client.headManifest(registry, repository, image.digest)) !== undefined;
  if (!existed) bytesUploaded += image.manifestBytes.byteLength;
  if (tags.length === 0)
    await client.putManifest(
      registry,
      repository,
      image.digest,
      image.manifestBytes,
      image.manifest.mediaType,
    );
  for (const t of tags)
    await client.putManifest(
      registry,
      repository,
      t,
      image.manifestBytes,
      image.manifest.mediaType,
    );
  const referrers: string[] = [];
  if (options.referrers !== false) {
    for (const artifact of image.referrers) {
      const r = await pushArtifact(
        client,
        registry,
        repository,
        image.digest,
        artifact,
        concurrency,
      );
      bytesUploaded += r.bytes;
      referrers.push(artifact.digest);
    }
  }
  return {
    reference: formatReference({ registry, repository, digest: image.digest }),
    digest: image.digest,
    tags,
    blobs: pushed,
    bytesUploaded,
    referrers,
  };
}

/**
 * Builds an artifact that refers to an image: an OCI manifest with `artifactType`, the empty config
 * and one layer holding `data` (e.g. an SPDX document), `subject` = the image (image-spec 1.1).
 *
 * @param image - the image it refers to
 * @param data - the document's bytes
 * @param mediaType - its media type, also the artifact type (e.g. `application/spdx+json`)
 * @param annotations - manifest annotations (e.g. `org.opencontainers.image.title`)
 * @returns the artifact (add it to `image.referrers` to push it with the image)
 * @throws never
 * @example
 * ```ts
 * image.referrers.push(createReferrer(image, sbomBytes, 'application/spdx+json'));
 * ```
 */
export function createReferrer(
  image: Image,
  data: Uint8Array,
  mediaType: string,
  annotations: Record<string, string> = {},
): Artifact {
  const empty = new TextEncoder().encode('{}');
  const emptyDesc: Descriptor = {
    mediaType: MEDIA_TYPES.ociEmpty,
    digest: sha256Digest(empty),
    size: 2,
  };
  const docDesc: Descriptor = { mediaType, digest: sha256Digest(data), size: data.byteLength };
  const manifest = {
    schemaVersion: 2 as const,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: mediaType,
    config: emptyDesc,
    layers: [docDesc],
    subject: {
      mediaType: image.manifest.mediaType,
      digest: image.digest,
      size: image.manifestBytes.byteLength,
    },
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const manifestBytes = jsonBytes(manifest);
  return {
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    blobs: [
      { descriptor: emptyDesc, data: empty, read: () => Promise.resolve(empty) },
      { descriptor: docDesc, data, read: () => Promise.resolve(data) },
    ],
  };
}
