import { createFsAdapter, describeError, joinPath } from '@mlship/core';
import type { MlshipFs } from '@mlship/core';
import { ContainerError, checkOptionKeys } from './errors';
import { digestHex, jsonBytes, verifyDigest } from './digest';
import type { Image } from './image';
import type { Blob } from './layer';
import { MEDIA_TYPES } from './media-types';
import type { Descriptor, ImageIndex } from './types';

/** Options of {@link writeOciLayout}. */
export interface WriteOciLayoutOptions {
  /** The tag (`org.opencontainers.image.ref.name`) the image gets in index.json, e.g. `v1` (default `latest`). */
  tag?: string;
  /** The file system (default node's). */
  fs?: MlshipFs;
}

/** What {@link writeOciLayout} wrote. */
export interface OciLayoutResult {
  /** The layout directory. */
  dir: string;
  /** The image's manifest digest. */
  digest: string;
  /** Blobs written (others were already there). */
  blobsWritten: number;
  /** Bytes of the blobs written. */
  bytesWritten: number;
}

/** Every blob of an image and of its referrers, manifests included, de-duplicated. @internal */
export function allBlobs(image: Image): Blob[] {
  const seen = new Set<string>();
  const out: Blob[] = [];
  const add = (b: Blob): void => {
    if (seen.has(b.descriptor.digest)) return;
    seen.add(b.descriptor.digest);
    out.push(b);
  };
  for (const l of image.layers) add(l);
  add(image.configBlob);
  add(bytesBlob(image.manifestBytes, image.digest, image.manifest.mediaType));
  for (const r of image.referrers) {
    for (const b of r.blobs) add(b);
    add(bytesBlob(r.manifestBytes, r.digest, r.manifest.mediaType));
  }
  return out;
}

function bytesBlob(data: Uint8Array, digest: string, mediaType: string): Blob {
  return {
    descriptor: { mediaType, digest, size: data.byteLength },
    data,
    read: () => Promise.resolve(data),
  };
}

/**
 * Writes an image (and the artifacts that refer to it, such as its SBOM) into an OCI image layout
 * directory: `oci-layout`, `blobs/sha256/<hex>`, and `index.json` naming the image by its tag. An
 * existing layout is extended (other tags are kept, a same-named tag is replaced), so one directory
 * can hold several images; blobs already present are not rewritten. Every file is written
 * atomically. `skopeo copy oci:DIR:tag ...`, `umoci unpack --image DIR:tag` and `podman load` read it.
 *
 * @param image - the image
 * @param dir - the layout directory (created if missing)
 * @param options - `tag`, `fs`
 * @returns the directory, digest and what was written
 * @throws ContainerError `INVALID_OPTION` (bad tag), `WRITE_FAILED`, `INVALID_IMAGE` (dir has a
 *   malformed index.json), and any error of reading a remote base layer (`REGISTRY_UNREACHABLE`, ...)
 * @example
 * ```ts
 * await writeOciLayout(image, './out/oci', { tag: 'v1' });
 * // skopeo copy oci:./out/oci:v1 docker://registry.example.com/cnn:v1
 * ```
 */
export async function writeOciLayout(
  image: Image,
  dir: string,
  options: WriteOciLayoutOptions = {},
): Promise<OciLayoutResult> {
  checkOptionKeys(options, ['tag', 'fs'], 'writeOciLayout options');
  const tag = options.tag ?? 'latest';
  if (typeof tag !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `tag: expected [A-Za-z0-9_][A-Za-z0-9._-]{0,127}, got ${JSON.stringify(tag)}`,
      { data: { path: 'tag', actual: tag } },
    );
  }
  const io = createFsAdapter(options.fs);
  let blobsWritten = 0;
  let bytesWritten = 0;
  const wrap = async <T>(what: string, path: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ContainerError) throw e;
      throw new ContainerError('WRITE_FAILED', `${what} ${path} failed: ${describeError(e)}`, {
        cause: e,
        data: { path },
      });
    }
  };
  const blobDir = joinPath(dir, 'blobs/sha256');
  await wrap('creating', blobDir, () => io.mkdirp(blobDir));
  await wrap('writing', joinPath(dir, 'oci-layout'), () =>
    io.writeAtomic(joinPath(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}'),
  );
  for (const blob of allBlobs(image)) {
    const file = joinPath(blobDir, digestHex(blob.descriptor.digest));
    const st = await io.lstat(file);
    if (st !== undefined && st.isFile() && Number(st.size) === blob.descriptor.size) continue;
    const data = blob.data ?? (await blob.read());
    verifyDigest(data, blob.descriptor.digest, `blob for ${file}`, blob.descriptor.size);
    await wrap('writing', file, () => io.writeAtomic(file, data, { fsync: true }));
    blobsWritten++;
    bytesWritten += data.byteLength;
  }
  const indexFile = joinPath(dir, 'index.json');
  let index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  const existing = await io.read(indexFile);
  if (existing !== undefined) {
    try {
      index = JSON.parse(new TextDecoder().decode(existing)) as ImageIndex;
      if (!Array.isArray(index.manifests)) throw new Error('no "manifests" array');
    } catch (e) {
      throw new ContainerError(
        'INVALID_IMAGE',
        `${indexFile}: not an OCI index: ${describeError(e)}`,
        { cause: e, data: { path: indexFile } },
      );
    }
  }
  const ref = 'org.opencontainers.image.ref.name';
  const referrerDigests = new Set(image.referrers.map((r) => r.digest));
  const manifests: Descriptor[] = index.manifests.filter(
    (d) => d.annotations?.[ref] !== tag && !referrerDigests.has(d.digest),
  );
  manifests.push({
    mediaType: image.manifest.mediaType,
    digest: image.digest,
    size: image.manifestBytes.byteLength,
    platform: image.platform,
    annotations: { [ref]: tag },
  });
  for (const r of image.referrers) {
    const d: Descriptor = {
      mediaType: r.manifest.mediaType,
      digest: r.digest,
      size: r.manifestBytes.byteLength,
    };
    if (r.manifest.artifactType !== undefined) d.artifactType = r.manifest.artifactType;
    manifests.push(d);
  }
  const out: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests };
  await wrap('writing', indexFile, () =>
    io.writeAtomic(indexFile, jsonBytes(out), { fsync: true }),
  );
  return { dir, digest: image.digest, blobsWritten, bytesWritten };
}
