import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildHostNodeBase,
  containerize,
  generateDockerfile,
  kubernetesManifests,
  kubernetesYaml,
  pushImage,
  writeOciLayout,
} from '@mlship/container';
import type { ResolvedVersion } from '@mlship/registry';
import type { Run } from './run';

export interface ImageResult {
  digest: string;
  layout: string;
  layers: { role: string; size: number }[];
  pushed: string | undefined;
  dockerfile: string;
  manifests: string;
}

/**
 * Stage 6: build the model-server image (@mlship/serve + its production dependencies + the model
 * v2) as an OCI image layout on disk, on a base made from this machine's node binary (no network);
 * push it when a registry reference is given; write the Dockerfile and the Kubernetes manifests.
 */
export async function buildImageStage(
  run: Run,
  v2: ResolvedVersion,
  modelDir: string,
): Promise<ImageResult> {
  const { log } = run;
  const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const base = await buildHostNodeBase({ compressionLevel: 1 });
  const result = await containerize({
    model: modelDir,
    name: 'cnn',
    version: v2.version,
    ref: v2.tag,
    gitCommit: v2.commit,
    base,
    projectDir,
  });
  const layout = path.join(run.dirs.image, 'oci');
  const written = await writeOciLayout(result.image, layout, { tag: `v${v2.version}` });
  log(
    `  OCI image layout ${layout} (${written.digest}), layers: ${result.layers.map((l) => `${l.role} ${(l.size / 1e6).toFixed(1)} MB`).join(', ')}`,
  );

  let pushed: string | undefined;
  if (run.cfg.pushTo !== undefined) {
    const p = await pushImage(result.image, run.cfg.pushTo);
    pushed = p.reference;
    log(`  pushed ${p.reference} (${p.bytesUploaded} bytes uploaded)`);
  }

  const dockerfile = path.join(run.dirs.image, 'Dockerfile');
  await writeFile(dockerfile, generateDockerfile(result));
  const k = kubernetesManifests({
    name: 'cnn-server',
    image: pushed ?? `mlship/cnn-server@${written.digest}`,
  });
  await mkdir(run.dirs.k8s, { recursive: true });
  const manifests = path.join(run.dirs.k8s, 'cnn-server.yaml');
  await writeFile(manifests, kubernetesYaml([k.deployment, k.service, k.hpa]));
  await writeFile(
    path.join(run.dirs.k8s, 'kserve-inferenceservice.yaml'),
    kubernetesYaml([k.inferenceService]),
  );
  log(`  Dockerfile ${dockerfile}; Kubernetes manifests ${run.dirs.k8s}/`);
  return {
    digest: written.digest,
    layout,
    layers: result.layers.map((l) => ({ role: l.role, size: l.size })),
    pushed,
    dockerfile,
    manifests,
  };
}
