import { createFsAdapter, describeError, joinPath } from '@mlship/core';
import type { MlshipFs } from '@mlship/core';
import { extract as tarExtract } from 'tar-stream';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { ContainerError } from './errors';
import { digestHex, isDigest, sha256Digest, verifyDigest } from './digest';
import type { Image } from './image';
import { formatPlatform } from './image';
import { layerTar, memoryLayer } from './layer';
import type { Layer } from './layer';
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES, MEDIA_TYPES } from './media-types';
import { formatReference, parseReference } from './reference';
import { createRegistryClient } from './registry/client';
import type { RegistryClient } from './registry/client';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from './types';

const gzip = promisify(gzipCb);

/**
 * Where a base image comes from:
 * - `'scratch'`: nothing (an empty root file system);
 * - a registry reference string (`node:20-slim`, `127.0.0.1:5000/base/node@sha256:...`);
 * - `{ ociLayout: dir, tag? }`: an OCI image layout directory (the tag is its `ref.name` annotation);
 * - `{ dockerArchive: file, tag? }`: a `docker save` / `podman save` tar (`tag` like `repo:tag`);
 * - an {@link Image} built in this process.
 */
export type BaseImage =
  | string
  | { ociLayout: string; tag?: string; fs?: MlshipFs }
  | { dockerArchive: string; tag?: string; fs?: MlshipFs }
  | Image;

/** A resolved base: its config (undefined for scratch), layers and provenance. @internal */
export interface ResolvedBase {
  config?: ImageConfig;
  layers: Layer[];
  /** The reference it was pulled by (annotation `org.opencontainers.image.base.name`). */
  name?: string;
  /** Its manifest digest (annotation `org.opencontainers.image.base.digest`). */
  digest?: string;
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new ContainerError('INVALID_IMAGE', `${what}: not valid JSON: ${describeError(e)}`, {
      cause: e,
      data: { path: what },
    });
  }
}

function platformMatches(d: Platform | undefined, want: Platform): boolean {
  if (d === undefined) return false;
  if (d.os !== want.os || d.architecture !== want.architecture) return false;
  if (want.variant === undefined) return true;
  const v = d.variant ?? (d.architecture === 'arm64' ? 'v8' : undefined);
  return v === want.variant;
}

/** Picks the platform's manifest from an index. @internal */
export function selectPlatform(index: ImageIndex, want: Platform, where: string): Descriptor {
  const candidates = (index.manifests ?? []).filter(
    (d) => IMAGE_MANIFEST_TYPES.includes(d.mediaType) && platformMatches(d.platform, want),
  );
  const pick = candidates[0];
  if (pick === undefined) {
    const available = (index.manifests ?? [])
      .filter((d) => d.platform !== undefined && d.platform.architecture !== 'unknown')
      .map((d) => formatPlatform(d.platform as Platform));
    throw new ContainerError(
      'PLATFORM_NOT_FOUND',
      `${where}: no image for platform ${formatPlatform(want)} in the index (available: ${available.join(', ') || 'none'})`,
      {
        data: { reference: where, expected: formatPlatform(want), actual: available },
      },
    );
  }
  return pick;
}

function checkManifest(m: ImageManifest, where: string): void {
  if (m.schemaVersion !== 2 || typeof m.config?.digest !== 'string' || !Array.isArray(m.layers)) {
    throw new ContainerError(
      'INVALID_IMAGE',
      `${where}: not an image manifest (schemaVersion 2 with config and layers)`,
      { data: { path: where } },
    );
  }
  for (const d of [m.config, ...m.layers]) {
    if (!isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) {
      throw new ContainerError(
        'INVALID_IMAGE',
        `${where}: descriptor ${JSON.stringify(d.digest)} has no sha256 digest or size`,
        { data: { path: where } },
      );
    }
  }
}

function checkConfig(c: ImageConfig, m: ImageManifest, want: Platform, where: string): void {
  if (
    typeof c !== 'object' ||
    c === null ||
    c.rootfs?.type !== 'layers' ||
    !Array.isArray(c.rootfs.diff_ids)
  ) {
    throw new ContainerError('INVALID_IMAGE', `${where}: the image config has no rootfs.diff_ids`, {
      data: { path: where },
    });
  }
  if (c.rootfs.diff_ids.length !== m.layers.length) {
    throw new ContainerError(
      'INVALID_IMAGE',
      `${where}: ${m.layers.length} layers but ${c.rootfs.diff_ids.length} diff_ids`,
      { data: { path: where } },
    );
  }
  if (c.os !== want.os || c.architecture !== want.architecture) {
    throw new ContainerError(
      'PLATFORM_NOT_FOUND',
      `${where}: the image is for ${c.os}/${c.architecture}, not ${formatPlatform(want)}`,
      {
        data: {
          reference: where,
          expected: formatPlatform(want),
          actual: `${c.os}/${c.architecture}`,
        },
      },
    );
  }
}

/** A layer descriptor as OCI (Docker's gzip layer type is the same bytes). */
function ociLayerDescriptor(d: Descriptor, where: string): Descriptor {
  const mediaType =
    d.mediaType === MEDIA_TYPES.dockerLayerGzip ? MEDIA_TYPES.ociLayerGzip : d.mediaType;
  if (!mediaType.startsWith('application/vnd.oci.image.layer.v1.tar')) {
    throw new ContainerError(
      'INVALID_IMAGE',
      `${where}: layer ${d.digest} has unsupported media type ${JSON.stringify(d.mediaType)}`,
      { data: { path: where } },
    );
  }
  const out: Descriptor = { mediaType, digest: d.digest, size: d.size };
  if (d.annotations !== undefined) out.annotations = d.annotations;
  return out;
}

async function fromRegistry(
  refString: string,
  platform: Platform,
  client: RegistryClient,
): Promise<ResolvedBase> {
  const ref = parseReference(refString);
  const name = formatReference({
    registry: ref.registry,
    repository: ref.repository,
    ...(ref.tag ? { tag: ref.tag } : {}),
  });
  let fetched = await client.getManifest(
    ref.registry,
    ref.repository,
    ref.digest ?? ref.tag ?? 'latest',
  );
  if (INDEX_TYPES.includes(fetched.mediaType)) {
    const index = parseJson<ImageIndex>(fetched.bytes, name);
    const pick = selectPlatform(index, platform, name);
    fetched = await client.getManifest(ref.registry, ref.repository, pick.digest);
  }
  if (!IMAGE_MANIFEST_TYPES.includes(fetched.mediaType)) {
    throw new ContainerError(
      'INVALID_IMAGE',
      `${name}: unsupported manifest media type ${JSON.stringify(fetched.mediaType)}`,
      { data: { reference: name } },
    );
  }
  const manifest = parseJson<ImageManifest>(fetched.bytes, name);
  checkManifest(manifest, name);
  const configBytes = await client.getBlob(
    ref.registry,
    ref.repository,
    manifest.config.digest,
    manifest.config.size,
  );
  const config = parseJson<ImageConfig>(configBytes, `${name} config`);
  checkConfig(config, manifest, platform, name);
  const origin = { registry: ref.registry, repository: ref.repository };
  const layers = manifest.layers.map((d, i): Layer => ({
    descriptor: ociLayerDescriptor(d, name),
    diffId: config.rootfs.diff_ids[i] as string,
    read: () => client.getBlob(ref.registry, ref.repository, d.digest, d.size),
    origin,
  }));
  return { config, layers, name, digest: fetched.digest };
}

async function fromOciLayout(
  dir: string,
  tag: string | undefined,
  platform: Platform,
  fs?: MlshipFs,
): Promise<ResolvedBase> {
  const io = createFsAdapter(fs);
  const where = `OCI layout ${dir}${tag === undefined ? '' : `:${tag}`}`;
  const readBlob = async (d: Descriptor): Promise<Uint8Array> => {
    if (!isDigest(d.digest))
      throw new ContainerError(
        'INVALID_IMAGE',
        `${where}: bad digest ${JSON.stringify(d.digest)}`,
        { data: { path: dir } },
      );
    const file = joinPath(dir, `blobs/sha256/${digestHex(d.digest)}`);
    const read = await io.readRegular(file);
    if (read.kind !== 'ok') {
      throw new ContainerError(
        'INVALID_IMAGE',
        `${where}: blob ${d.digest} is missing from ${file}`,
        { data: { path: file, digest: d.digest } },
      );
    }
    verifyDigest(read.data, d.digest, `${where} blob ${file}`, d.size);
    return read.data;
  };
  const indexBytes = await io.read(joinPath(dir, 'index.json'));
  if (indexBytes === undefined) {
    throw new ContainerError(
      'INVALID_IMAGE',
      `${where}: no index.json (expected an OCI image layout directory)`,
      { data: { path: dir } },
    );
  }
  const index = parseJson<ImageIndex>(indexBytes, `${dir}/index.json`);
  const manifests = (index.manifests ?? []).filter((d) => d.artifactType === undefined);
  const matching =
    tag === undefined
      ? manifests
      : manifests.filter((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (matching.length === 0) {
    throw new ContainerError(
      'MANIFEST_NOT_FOUND',
      `${where}: no manifest ${tag === undefined ? '' : `tagged ${JSON.stringify(tag)} `}in index.json`,
      { data: { path: dir, reference: tag } },
    );
  }
  let desc: Descriptor | undefined = matching.length === 1 ? matching[0] : undefined;
  if (desc === undefined) {
    desc = matching.find((d) => platformMatches(d.platform, platform));
    if (desc === undefined) {
      throw new ContainerError(
        'INVALID_OPTION',
        `${where}: ${matching.length} manifests; name one with "tag"`,
        { data: { path: 'tag' } },
      );
    }
  }
  let bytes = await readBlob(desc);
  if (INDEX_TYPES.includes(desc.mediaType)) {
    desc = selectPlatform(parseJson<ImageIndex>(bytes, where), platform, where);
    bytes = await readBlob(desc);
  }
  const manifest = parseJson<ImageManifest>(bytes, where);
  checkManifest(manifest, where);
  const config = parseJson<ImageConfig>(await readBlob(manifest.config), `${where} config`);
  checkConfig(config, manifest, platform, where);
  const layers = manifest.layers.map((d, i): Layer => ({
    descriptor: ociLayerDescriptor(d, where),
    diffId: config.rootfs.diff_ids[i] as string,
    read: () => readBlob(d),
  }));
  return { config, layers, digest: sha256Digest(bytes) };
}

/** Reads every regular file of a tar into memory. @internal */
export async function readTarFiles(data: Uint8Array): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const ex = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Uint8Array[] = [];
      stream.on('data', (c: unknown) => {
        if (c instanceof Uint8Array) chunks.push(c);
      });
      stream.on('end', () => {
        if (header.type === 'file')
          files.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  await done;
  return files;
}

async function fromDockerArchive(
  file: string,
  tag: string | undefined,
  platform: Platform,
  fs?: MlshipFs,
): Promise<ResolvedBase> {
  const io = createFsAdapter(fs);
  const where = `docker archive ${file}`;
  const read = await io.readRegular(file);
  if (read.kind !== 'ok')
    throw new ContainerError('READ_FAILED', `${where}: cannot read the file (${read.kind})`, {
      data: { path: file },
    });
  let files: Map<string, Uint8Array>;
  try {
    files = await readTarFiles(read.data);
  } catch (e) {
    throw new ContainerError('INVALID_IMAGE', `${where}: not a tar archive: ${describeError(e)}`, {
      cause: e,
      data: { path: file },
    });
  }
  const manifestBytes = files.get('manifest.json');
  if (manifestBytes === undefined)
    throw new ContainerError(
      'INVALID_IMAGE',
      `${where}: no manifest.json (expected a docker save / podman save archive)`,
      { data: { path: file } },
    );
  const entries = parseJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(
    manifestBytes,
    `${where} manifest.json`,
  );
  if (!Array.isArray(entries) || entries.length === 0)
    throw new ContainerError('INVALID_IMAGE', `${where}: manifest.json lists no image`, {
      data: { path: file },
    });
  const entry =
    tag === undefined
      ? entries.length === 1
        ? entries[0]
        : undefined
      : entries.find((e) => (e.RepoTags ?? []).some((t) => t === tag || t.endsWith(`/${tag}`)));
  if (entry === undefined) {
    throw new ContainerError(
      'MANIFEST_NOT_FOUND',
      `${where}: ${tag === undefined ? `${entries.length} images; name one with "tag"` : `no image tagged ${JSON.stringify(tag)}`}`,
      {
        data: { path: file, reference: tag },
      },
    );
  }
  const cfgBytes = files.get(entry.Config);
  if (cfgBytes === undefined)
    throw new ContainerError('INVALID_IMAGE', `${where}: config ${entry.Config} is missing`, {
      data: { path: file },
    });
  const config = parseJson<ImageConfig>(cfgBytes, `${where} ${entry.Config}`);
  const fakeManifest = { layers: entry.Layers } as unknown as ImageManifest;
  checkConfig(config, fakeManifest, platform, where);
  const layers: Layer[] = [];
  for (const [i, name] of entry.Layers.entries()) {
    const bytes = files.get(name);
    if (bytes === undefined)
      throw new ContainerError('INVALID_IMAGE', `${where}: layer ${name} is missing`, {
        data: { path: file },
      });
    const tar = await layerTar(bytes);
    const diffId = sha256Digest(tar);
    const expected = config.rootfs.diff_ids[i] as string;
    if (diffId !== expected) {
      throw new ContainerError(
        'DIGEST_MISMATCH',
        `${where}: layer ${name} hashes to ${diffId}, the config says ${expected}`,
        { data: { path: file, expected, actual: diffId } },
      );
    }
    const compressed = tar === bytes ? await gzip(tar, { level: 6 }) : bytes;
    layers.push(
      memoryLayer(
        new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength),
        diffId,
      ),
    );
  }
  return { config, layers, ...(entry.RepoTags?.[0] ? { name: entry.RepoTags[0] } : {}) };
}

/** Resolves a {@link BaseImage} for a platform. @internal */
export async function resolveBase(
  base: BaseImage,
  platform: Platform,
  client?: RegistryClient,
): Promise<ResolvedBase> {
  if (base === 'scratch') return { layers: [] };
  if (typeof base === 'string')
    return fromRegistry(base, platform, client ?? createRegistryClient());
  if (typeof base === 'object' && base !== null) {
    if ('manifest' in base && 'layers' in base && 'config' in base) {
      const img = base;
      checkConfig(img.config, img.manifest, platform, `base image ${img.digest}`);
      return { config: img.config, layers: [...img.layers], digest: img.digest };
    }
    if ('ociLayout' in base && typeof base.ociLayout === 'string')
      return fromOciLayout(base.ociLayout, base.tag, platform, base.fs);
    if ('dockerArchive' in base && typeof base.dockerArchive === 'string')
      return fromDockerArchive(base.dockerArchive, base.tag, platform, base.fs);
  }
  throw new ContainerError(
    'INVALID_OPTION',
    `base: expected 'scratch', a registry reference, { ociLayout }, { dockerArchive } or an Image, got ${JSON.stringify(base)}`,
    {
      data: { path: 'base' },
    },
  );
}
