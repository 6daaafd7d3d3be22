import { pack as tarPack } from 'tar-stream';
import { createFsAdapter, describeError } from '@mlship/core';
import type { MlshipFs } from '@mlship/core';
import { ContainerError, checkOptionKeys } from './errors';
import { digestHex, verifyDigest } from './digest';
import { resolveEpoch } from './epoch';
import type { EpochOptions } from './epoch';
import type { Image } from './image';
import { layerTar } from './layer';
import { parseReference } from './reference';

/** Options of {@link writeDockerArchive}. */
export interface WriteDockerArchiveOptions extends EpochOptions {
  /** The name `docker load` / `podman load` gives the image, e.g. `acme/cnn:v1` (default: untagged). */
  tag?: string;
  /** The file system (default node's). */
  fs?: MlshipFs;
}

/**
 * Writes an image as a docker-archive tar (the `docker save` format: `manifest.json`, the config
 * as `<hex>.json`, each layer uncompressed as `<diff_id hex>/layer.tar`), which `docker load` and
 * `podman load` read. The tar's entries are sorted and dated at the source date epoch; the file is
 * written atomically.
 *
 * @param image - the image
 * @param file - the tar to write
 * @param options - `tag`, `fs`, epoch
 * @returns the bytes written
 * @throws ContainerError `INVALID_REFERENCE` (bad tag), `WRITE_FAILED`, `DIGEST_MISMATCH` (a layer
 *   does not match its diff_id), and any error of reading a remote base layer
 * @example
 * ```ts
 * await writeDockerArchive(image, './out/cnn.tar', { tag: 'acme/cnn:v1' });
 * // docker load -i ./out/cnn.tar
 * ```
 */
export async function writeDockerArchive(
  image: Image,
  file: string,
  options: WriteDockerArchiveOptions = {},
): Promise<{ file: string; bytes: number }> {
  checkOptionKeys(options, ['tag', 'fs', 'sourceDateEpoch', 'env'], 'writeDockerArchive options');
  let repoTag: string | undefined;
  if (options.tag !== undefined) {
    const ref = parseReference(options.tag);
    const name =
      ref.registry === 'docker.io'
        ? ref.repository.replace(/^library\//, '')
        : `${ref.registry}/${ref.repository}`;
    repoTag = `${name}:${ref.tag ?? 'latest'}`;
  }
  const mtime = new Date(resolveEpoch(options) * 1000);
  const configName = `${digestHex(image.configBlob.descriptor.digest)}.json`;
  const entries: { name: string; data?: Uint8Array; dir?: boolean }[] = [];
  const layerNames: string[] = [];
  const seen = new Set<string>();
  for (const layer of image.layers) {
    const data = layer.data ?? (await layer.read());
    const tar = await layerTar(data);
    verifyDigest(tar, layer.diffId, `layer ${layer.descriptor.digest} (uncompressed)`);
    const dir = digestHex(layer.diffId);
    layerNames.push(`${dir}/layer.tar`);
    if (seen.has(dir)) continue;
    seen.add(dir);
    entries.push({ name: `${dir}/`, dir: true }, { name: `${dir}/layer.tar`, data: tar });
  }
  const configData = image.configBlob.data ?? (await image.configBlob.read());
  entries.push({ name: configName, data: configData });
  const manifest = [
    { Config: configName, RepoTags: repoTag === undefined ? [] : [repoTag], Layers: layerNames },
  ];
  entries.push({ name: 'manifest.json', data: new TextEncoder().encode(JSON.stringify(manifest)) });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pack = tarPack();
  const chunks: Uint8Array[] = [];
  pack.on('data', (c: unknown) => {
    if (c instanceof Uint8Array) chunks.push(c);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      const header = {
        name: e.name,
        mtime,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        mode: e.dir ? 0o755 : 0o644,
        type: e.dir ? ('directory' as const) : ('file' as const),
      };
      if (e.data !== undefined) pack.entry({ ...header, size: e.data.byteLength }, e.data, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  const bytes = Buffer.concat(chunks);
  try {
    await createFsAdapter(options.fs).writeAtomic(file, bytes, { fsync: true });
  } catch (e) {
    throw new ContainerError('WRITE_FAILED', `writing ${file} failed: ${describeError(e)}`, {
      cause: e,
      data: { path: file },
    });
  }
  return { file, bytes: bytes.byteLength };
}
