import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyModelFiles } from '@mlship/core';
import { writeModelDirForTesting } from '@mlship/registry/testing';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  containerize,
  generateDockerfile,
  isContainerError,
  kubernetesManifests,
  kubernetesYaml,
  writeDockerContext,
} from '../src/index';
import type { ContainerizeResult, InferenceService } from '../src/index';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { Service } from 'kubernetes-types/core/v1';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let work: string;
let built: ContainerizeResult;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlship-outputs-'));
  await writeModelDirForTesting(join(work, 'model'), { seed: 1 });
  built = await containerize({
    model: join(work, 'model'),
    base: await buildImage(),
    server: { packageName: '@mlship/registry', bin: 'dist/index.js' },
    projectDir: packageDir,
    version: 3,
  });
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('generateDockerfile', () => {
  it('is multi-stage, non-root, with a HEALTHCHECK on the v2 ready route and the image’s entrypoint and command', () => {
    const text = generateDockerfile(built);
    const cfg = built.image.config.config!;
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(text).toMatch(/^FROM node:20-slim AS deps$/m);
    expect(text).toMatch(/^RUN npm install --omit=dev/m);
    expect(text).toMatch(/^COPY --from=deps \/app\/node_modules \/app\/node_modules$/m);
    expect(text).toMatch(/^USER 1000:1000$/m);
    expect(text).toMatch(
      /^HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \\\n {2}CMD \["node","-e",".*\/v2\/health\/ready.*"\]$/m,
    );
    expect(text).toContain(`ENTRYPOINT ${JSON.stringify(cfg.Entrypoint)}`);
    expect(text).toContain(`CMD ${JSON.stringify(cfg.Cmd)}`);
    expect(text).toMatch(/^EXPOSE 8080\/tcp$/m);
    // weights and metadata are separate COPY layers, metadata last
    const copies = text.split('\n').filter((l) => l.startsWith('COPY ["models/'));
    expect(copies).toHaveLength(2);
    expect(copies[0]).toMatch(/dense\.weights\.bin/);
    expect(copies[1]).toBe(
      'COPY ["models/cnn/model.json","models/cnn/mlship.json","/models/cnn/"]',
    );
    expect(text).toContain('"dev.mlship.model.version"="3"');
    expect(generateDockerfile(built, { base: 'gcr.io/distroless/nodejs20-debian12' })).toMatch(
      /^FROM gcr\.io\/distroless\/nodejs20-debian12$/m,
    );
  });

  it('writes an install context whose package.json pins the server and its dependencies', async () => {
    const dir = join(work, 'ctx-install');
    const { files } = await writeDockerContext(built, dir);
    expect(files).toEqual(
      expect.arrayContaining([
        'Dockerfile',
        '.dockerignore',
        'package.json',
        'models/cnn/mlship.json',
        'models/cnn/model.json',
      ]),
    );
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      overrides: Record<string, string>;
    };
    expect(pkg.dependencies).toEqual({ '@mlship/registry': built.server.version });
    const git = built.packages.find((p) => p.name === 'isomorphic-git');
    expect(pkg.overrides['isomorphic-git']).toBe(git?.version);
    await verifyModelFiles(join(dir, 'models/cnn'));
  });

  it('writes a vendor context whose node_modules tree resolves offline', async () => {
    const dir = join(work, 'ctx-vendor');
    await writeDockerContext(built, dir, { mode: 'vendor' });
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toMatch(
      /^COPY app\/node_modules \/app\/node_modules$/m,
    );
    const out = execFileSync(
      process.execPath,
      ['-e', "console.log(typeof require('./app/node_modules/@mlship/registry').openRegistry)"],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function');
  });
});

describe('kubernetesManifests', () => {
  const image = `127.0.0.1:5000/mlship/cnn-server@${'sha256:'.padEnd(71, 'a')}`;

  it('writes a Deployment with v2 health probes and requests, a Service, an HPA and a KServe InferenceService as YAML', () => {
    const m = kubernetesManifests({
      name: 'cnn-server',
      image,
      namespace: 'ml',
      podAnnotations: { 'dev.mlship.model.version': '3' },
    });
    const docs = parseAllDocuments(
      kubernetesYaml([m.deployment, m.service, m.hpa, m.inferenceService]),
    ).map((d) => d.toJS() as { apiVersion: string; kind: string });
    expect(docs.map((d) => `${d.apiVersion}/${d.kind}`)).toEqual([
      'apps/v1/Deployment',
      'v1/Service',
      'autoscaling/v2/HorizontalPodAutoscaler',
      'serving.kserve.io/v1beta1/InferenceService',
    ]);
    const [deployment, service, hpa, isvc] = docs as unknown as [
      Deployment,
      Service,
      HorizontalPodAutoscaler,
      InferenceService,
    ];
    const c = deployment.spec?.template.spec?.containers[0];
    expect(c?.image).toBe(image);
    expect(c?.readinessProbe?.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(c?.livenessProbe?.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(c?.resources?.requests).toEqual({ cpu: '500m', memory: '512Mi' });
    expect(c?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
    });
    expect(deployment.metadata?.namespace).toBe('ml');
    expect(deployment.spec?.template.metadata?.annotations).toEqual({
      'dev.mlship.model.version': '3',
    });
    expect(service.spec?.selector).toEqual(deployment.spec?.selector.matchLabels);
    expect(service.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: 'http' });
    expect(hpa.spec?.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'cnn-server',
    });
    expect(hpa.spec?.metrics?.[0]?.resource?.target).toEqual({
      type: 'Utilization',
      averageUtilization: 70,
    });
    expect(isvc.spec.predictor.containers[0]).toMatchObject({
      name: 'kserve-container',
      image,
      readinessProbe: { httpGet: { path: '/v2/health/ready', port: 8080 } },
    });
  });

  it.each([
    [{ name: 'CNN', image }, /DNS-1123/],
    [{ name: 'cnn', image: 'Bad Image' }, /invalid image reference/],
    [{ name: 'cnn', image, autoscaling: { minReplicas: 5, maxReplicas: 2 } }, /below minReplicas/],
    [{ name: 'cnn', image, replica: 2 }, /unknown option "replica" \(did you mean "replicas"\?\)/],
  ])('refuses %j', (options, message) => {
    let e: unknown;
    try {
      kubernetesManifests(options);
    } catch (x) {
      e = x;
    }
    expect(isContainerError(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
  });
});
