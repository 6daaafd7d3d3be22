/**
 * @mlship/container benchmark: build and push time of the model-server image (@mlship/serve + model
 * A saved by @mlship/model, on a base built from this machine's node), its size per layer, the
 * bytes a re-push of the same image uploads, and the bytes uploaded when only the model version
 * changes (v2 = model A with other weights). Everything runs against a real registry
 * (`docker-registry serve`) on 127.0.0.1 started by the bench; nothing leaves the machine.
 *
 *   pnpm bench:container
 *
 * Imports the built dist. Builds use the defaults (gzip level 6, pruned node_modules, no layer
 * cache) so the figures are those of a clean CI build; `digestStable` compares two clean builds.
 * Targets: a re-push after a model-only change uploads no more than the changed layers + 64 KiB;
 * the digest is identical across two clean builds. The last line is one JSON object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  buildHostNodeBase,
  containerize,
  createRegistryClient,
  pushImage,
} from '@mlship/container';
import type { ContainerizeResult } from '@mlship/container';
import { startTestRegistry } from '@mlship/container/testing';
import { buildModel, defaultCnnSpec, saveModelDir } from '@mlship/model';

const projectDir = join(import.meta.dirname, '../packages/container');
const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

const work = await mkdtemp(join(tmpdir(), 'mlship-bench-container-'));
const registry = await startTestRegistry();
try {
  const client = createRegistryClient({ dockerConfig: false });
  const saveModel = async (name: string, seed: number): Promise<string> => {
    const model = buildModel(defaultCnnSpec(), { seed });
    const dir = join(work, name);
    await saveModelDir(model, dir, { labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
    model.dispose();
    return dir;
  };
  const v1Dir = await saveModel('cnn-v1', 1);
  const v2Dir = await saveModel('cnn-v2', 2);

  const [base, baseBuildMs] = await timed(() => buildHostNodeBase());
  const baseRef = `${registry.host}/bench/node-base:host`;
  const [, basePushMs] = await timed(() => pushImage(base, baseRef, { client }));
  console.log(
    `base (host node ${process.version} + ldd closure): build ${s(baseBuildMs)}, push ${s(basePushMs)}, ${base.layers.map((l) => mb(l.descriptor.size)).join(' + ')}`,
  );

  const build = (model: string, version: number): Promise<ContainerizeResult> =>
    containerize({ model, base: baseRef, client, projectDir, version, ref: `cnn@v${version}.0.0` });
  const [v1, buildMs] = await timed(() => build(v1Dir, 1));
  const [again, rebuildMs] = await timed(() => build(v1Dir, 1));
  let identical = again.image.digest === v1.image.digest;
  for (const [i, l] of v1.image.layers.entries()) {
    const other = again.image.layers[i];
    if (
      l.data !== undefined &&
      (other?.data === undefined || !Buffer.from(l.data).equals(Buffer.from(other.data)))
    )
      identical = false;
  }
  console.log(
    `model-server image: ${v1.packages.length} npm packages, build ${s(buildMs)} (second clean build ${s(rebuildMs)}), digest ${v1.image.digest}`,
  );
  for (const l of v1.layers)
    console.log(`  ${l.role.padEnd(15)} ${mb(l.size).padStart(10)}  ${l.digest.slice(0, 19)}`);
  const repo = `${registry.host}/bench/cnn-server`;
  const [first, pushMs] = await timed(() => pushImage(v1.image, `${repo}:v1`, { client }));
  console.log(
    `push v1: ${s(pushMs)}, ${mb(first.bytesUploaded)} uploaded (base layers ${first.blobs.filter((b) => b.status === 'mounted').length} mounted)`,
  );
  const [rePush, rePushMs] = await timed(() => pushImage(v1.image, `${repo}:v1`, { client }));
  console.log(
    `re-push v1 unchanged: ${s(rePushMs)}, ${rePush.bytesUploaded} bytes uploaded, ${rePush.blobs.filter((b) => b.status === 'exists').length}/${rePush.blobs.length} blobs skipped`,
  );

  const [v2, v2BuildMs] = await timed(() => build(v2Dir, 2));
  const [second, v2PushMs] = await timed(() => pushImage(v2.image, `${repo}:v2`, { client }));
  const changed = v2.layers.filter((l, i) => l.digest !== v1.layers[i]?.digest);
  const changedLayerBytes = changed.reduce((a, l) => a + l.size, 0);
  console.log(
    `model-only change (v2): build ${s(v2BuildMs)}, push ${s(v2PushMs)}, changed layers ${changed.map((l) => l.role).join(', ')} = ${changedLayerBytes} bytes, uploaded ${second.bytesUploaded} bytes (config, manifest, SBOM referrer index included)`,
  );
  const target = changedLayerBytes + 64 * 1024;
  console.log(
    `target: re-push <= changed layers + 64 KiB = ${target} bytes: ${second.bytesUploaded <= target ? 'met' : 'MISSED'}; digest stable across two clean builds: ${identical ? 'yes' : 'NO'}`,
  );
  console.log(
    JSON.stringify({
      node: process.version,
      packages: v1.packages.length,
      baseBuildMs: Math.round(baseBuildMs),
      buildMs: Math.round(buildMs),
      pushMs: Math.round(pushMs),
      v2BuildMs: Math.round(v2BuildMs),
      v2PushMs: Math.round(v2PushMs),
      layers: v1.layers.map((l) => ({ role: l.role, bytes: l.size })),
      imageBytes: v1.layers.reduce((a, l) => a + l.size, 0),
      unchangedRepushBytes: rePush.bytesUploaded,
      repushBytes: second.bytesUploaded,
      changedLayerBytes,
      repushTargetMet: second.bytesUploaded <= target,
      digestStable: identical,
    }),
  );
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
