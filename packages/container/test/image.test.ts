import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeModelDirForTesting } from '@mlship/registry/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MEDIA_TYPES,
  buildImage,
  containerize,
  createRegistryClient,
  isContainerError,
  layerFromFiles,
  pushImage,
  writeDockerArchive,
  writeOciLayout,
} from '../src/index';
import type { ContainerizeOptions, Image, TransferEvent } from '../src/index';
import { startTestRegistry } from '../src/testing';
import type { TestRegistry } from '../src/testing';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const repoRoot = join(packageDir, '../..');

let work: string;
let registry: TestRegistry;
let base: Image;

/** A real workspace package with a real dependency closure stands in for the server here (the end-to-end test runs @mlship/serve). */
const server: ContainerizeOptions['server'] = {
  packageName: '@mlship/registry',
  bin: 'dist/index.js',
};

async function modelDir(name: string, seed: number): Promise<string> {
  const dir = join(work, name);
  await writeModelDirForTesting(dir, {
    seed,
    datasets: { train: { fingerprint: `sha256:${'1'.repeat(64)}`, count: 10 } },
  });
  return dir;
}

function build(model: string, extra: Partial<ContainerizeOptions> = {}) {
  return containerize({
    model,
    base,
    server,
    projectDir: packageDir,
    version: 1,
    gitCommit: 'abc1234',
    ...extra,
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlship-image-test-'));
  registry = await startTestRegistry();
  base = await buildImage({
    layers: [
      await layerFromFiles({
        '/etc/passwd':
          'root:x:0:0::/root:/sbin/nologin\nnode:x:1000:1000::/home/node:/sbin/nologin\n',
      }),
    ],
    config: { env: { PATH: '/usr/local/bin:/usr/bin:/bin' } },
  });
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('containerize', () => {
  it('gives byte-identical layers and the same manifest digest across two clean builds', async () => {
    const a = await build(await modelDir('clean-a', 1));
    const b = await build(await modelDir('clean-b', 1));
    expect(a.image.digest).toBe(b.image.digest);
    expect(a.image.layers.length).toBe(b.image.layers.length);
    for (const [i, layer] of a.image.layers.entries()) {
      expect(
        Buffer.from(await layer.read()).equals(
          Buffer.from(await (b.image.layers[i] as typeof layer).read()),
        ),
      ).toBe(true);
    }
    expect(
      Buffer.from(a.image.configBlob.data as Uint8Array).equals(
        Buffer.from(b.image.configBlob.data as Uint8Array),
      ),
    ).toBe(true);
    expect(a.image.referrers[0]?.digest).toBe(b.image.referrers[0]?.digest);
  });

  it('orders layers deps, server, weights, metadata; a new model version changes only the model layers', async () => {
    const v1 = await build(await modelDir('v1', 1));
    const v2 = await build(await modelDir('v2', 2), { version: 2 });
    expect(v1.layers.map((l) => l.role)).toEqual([
      'base',
      'dependencies',
      'server',
      'model-weights',
      'model-metadata',
    ]);
    const changed = v1.layers
      .filter((l, i) => l.digest !== v2.layers[i]?.digest)
      .map((l) => l.role);
    expect(changed).toEqual(['model-weights', 'model-metadata']);
    expect(v2.image.manifest.annotations?.['dev.mlship.model.version']).toBe('2');
    expect(v1.image.referrers[0]?.blobs[1]?.descriptor.digest).toBe(
      v2.image.referrers[0]?.blobs[1]?.descriptor.digest,
    );
  });

  it('runs the server as a non-root user with a healthcheck on the v2 ready route, and links the image to the registry version', async () => {
    const { image, command } = await build(await modelDir('cfg', 1), {
      ref: 'cnn@v1.0.0',
      port: 9000,
    });
    const cfg = image.config.config;
    expect(cfg?.User).toBe('1000:1000');
    expect(cfg?.Entrypoint).toEqual(['node', '/app/node_modules/@mlship/registry/dist/index.js']);
    expect(cfg?.Cmd).toEqual(['--model', 'cnn=/models/cnn', '--host', '0.0.0.0', '--port', '9000']);
    expect(command.slice(0, 2)).toEqual(cfg?.Entrypoint);
    expect(cfg?.Healthcheck?.Test.join(' ')).toMatch(
      /http:\/\/127\.0\.0\.1:9000\/v2\/health\/ready/,
    );
    expect(cfg?.ExposedPorts).toEqual({ '9000/tcp': {} });
    expect(cfg?.Env).toEqual(
      expect.arrayContaining(['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production']),
    );
    expect(image.manifest.annotations).toMatchObject({
      'dev.mlship.model.name': 'cnn',
      'dev.mlship.model.version': '1',
      'dev.mlship.model.ref': 'cnn@v1.0.0',
      'dev.mlship.git.commit': 'abc1234',
      'org.opencontainers.image.revision': 'abc1234',
      'dev.mlship.dataset.train.fingerprint': `sha256:${'1'.repeat(64)}`,
    });
    expect(cfg?.Labels?.['dev.mlship.model.ref']).toBe('cnn@v1.0.0');
  });

  it('lists every npm package in the SBOM with the lockfile integrity (workspace packages without)', async () => {
    const { packages, sbom, lockfile } = await build(await modelDir('sbom', 1));
    expect(lockfile).toBe(join(repoRoot, 'pnpm-lock.yaml'));
    const lock = parseYaml(readFileSync(join(repoRoot, 'pnpm-lock.yaml'), 'utf8')) as {
      packages: Record<string, { resolution: { integrity: string } }>;
    };
    const git = packages.find((p) => p.name === 'isomorphic-git');
    expect(git?.integrity).toBe(
      lock.packages[`isomorphic-git@${git?.version}`]?.resolution.integrity,
    );
    expect(packages.find((p) => p.name === '@mlship/core')?.integrity).toBeUndefined();
    const thirdParty = packages.filter((p) => !p.name.startsWith('@mlship/'));
    expect(thirdParty.length).toBeGreaterThan(3);
    expect(
      thirdParty.every((p) => typeof p.integrity === 'string' && p.integrity.startsWith('sha')),
    ).toBe(true);
    expect(sbom?.packages.map((p) => p.name).sort()).toEqual(packages.map((p) => p.name).sort());
  });

  it('writes an OCI layout that umoci unpacks, whose node_modules resolve the whole closure', async () => {
    const { image } = await build(await modelDir('layout', 1));
    const layout = join(work, 'oci');
    const written = await writeOciLayout(image, layout, { tag: 'v1' });
    expect(written.digest).toBe(image.digest);
    const bundle = join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, bundle], { stdio: 'pipe' });
    const rootfs = join(bundle, 'rootfs');
    expect(existsSync(join(rootfs, 'models/cnn/mlship.json'))).toBe(true);
    expect(existsSync(join(rootfs, 'models/cnn/dense.weights.bin'))).toBe(true);
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        "const r = require('./app/node_modules/@mlship/registry'); console.log(typeof r.openRegistry)",
      ],
      { cwd: rootfs, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function');
    const runtime = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
      process: { user: { uid: number }; args: string[] };
    };
    expect(runtime.process.user.uid).toBe(1000);
    expect(runtime.process.args.slice(0, 3)).toEqual([
      'node',
      '/app/node_modules/@mlship/registry/dist/index.js',
      '--model',
    ]);
    // A second image in the same layout keeps the first tag.
    const other = await build(await modelDir('layout2', 3));
    await writeOciLayout(other.image, layout, { tag: 'v2' });
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    expect(
      index.manifests
        .map((m) => m.annotations?.['org.opencontainers.image.ref.name'])
        .filter(Boolean)
        .sort(),
    ).toEqual(['v1', 'v2']);
  });

  it('refuses a tampered model directory before building (INTEGRITY)', async () => {
    const dir = await modelDir('tampered', 1);
    execFileSync('sh', ['-c', `printf 'x' >> ${join(dir, 'dense.weights.bin')}`]);
    const e = await build(dir).catch((x: unknown) => x);
    expect(isContainerError(e) && e.code === 'INTEGRITY').toBe(true);
    expect((e as { data: { path: string } }).data.path).toBe('dense.weights.bin');
  });

  it('names a server package that is not installed (DEPENDENCY_NOT_FOUND)', async () => {
    const e = await containerize({
      model: await modelDir('noserver', 1),
      base,
      projectDir: work,
    }).catch((x: unknown) => x);
    expect(isContainerError(e) && e.code === 'DEPENDENCY_NOT_FOUND').toBe(true);
    expect((e as Error).message).toMatch(/@mlship\/serve is not installed/);
  });
});

describe('pushImage', () => {
  it('skips every blob on a re-push, and uploads only the model layers after a model-only change', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const repo = `${registry.host}/mlship/cnn-server`;
    const v1 = await build(await modelDir('push-v1', 1));
    const first = await pushImage(v1.image, `${repo}:v1`, { client });
    expect(first.blobs.every((b) => b.status === 'uploaded')).toBe(true);
    const again = await pushImage(v1.image, `${repo}:v1`, { client });
    expect(again.blobs.map((b) => b.status)).toEqual(again.blobs.map(() => 'exists'));
    expect(again.bytesUploaded).toBe(0);
    const v2 = await build(await modelDir('push-v2', 2), { version: 2 });
    const second = await pushImage(v2.image, `${repo}:v2`, { client });
    const uploaded = second.blobs.filter((b) => b.status === 'uploaded').map((b) => b.digest);
    const modelLayers = v2.layers.filter((l) => l.role.startsWith('model-')).map((l) => l.digest);
    expect(uploaded).toEqual([...modelLayers, v2.image.configBlob.descriptor.digest]);
    const head = await client.headManifest(registry.host, 'mlship/cnn-server', 'v2');
    expect(head?.digest).toBe(v2.image.digest);
    expect(second.reference).toBe(`${repo}@${v2.image.digest}`);
  });

  it('pushes the SBOM as an artifact that refers to the image (referrers tag fallback)', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const { image, packages } = await build(await modelDir('push-sbom', 1));
    const pushed = await pushImage(image, `${registry.host}/mlship/sbom-test:v1`, { client });
    expect(pushed.referrers).toHaveLength(1);
    const index = await client.getManifest(
      registry.host,
      'mlship/sbom-test',
      `sha256-${image.digest.slice(7)}`,
    );
    const listed = (
      JSON.parse(new TextDecoder().decode(index.bytes)) as {
        manifests: { digest: string; artifactType: string }[];
      }
    ).manifests;
    expect(listed).toEqual([
      expect.objectContaining({ digest: pushed.referrers[0], artifactType: MEDIA_TYPES.spdxJson }),
    ]);
    const artifact = JSON.parse(
      new TextDecoder().decode(
        (await client.getManifest(registry.host, 'mlship/sbom-test', pushed.referrers[0] as string))
          .bytes,
      ),
    ) as {
      subject: { digest: string };
      layers: { digest: string }[];
    };
    expect(artifact.subject.digest).toBe(image.digest);
    const doc = JSON.parse(
      new TextDecoder().decode(
        await client.getBlob(
          registry.host,
          'mlship/sbom-test',
          artifact.layers[0]?.digest as string,
        ),
      ),
    ) as { packages: { name: string }[] };
    expect(doc.packages.map((p) => p.name).sort()).toEqual(packages.map((p) => p.name).sort());
  });

  it('leaves the tag untouched when a blob fails to upload', async () => {
    const client = createRegistryClient({ dockerConfig: false, retries: 0 });
    const good = await buildImage({ layers: [await layerFromFiles({ '/a': 'a' })] });
    await pushImage(good, `${registry.host}/mlship/partial:v1`, { client });
    const broken = await buildImage({ layers: [await layerFromFiles({ '/b': 'b' })] });
    const layer = broken.layers[0]!;
    delete layer.data;
    layer.read = () => Promise.reject(new Error('disk gone'));
    await expect(
      pushImage(broken, `${registry.host}/mlship/partial:v1`, { client }),
    ).rejects.toThrow(/disk gone/);
    expect((await client.headManifest(registry.host, 'mlship/partial', 'v1'))?.digest).toBe(
      good.digest,
    );
  });
});

describe('bases', () => {
  it('picks the platform from a multi-platform index, mounts base layers without downloading them', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const amd = await buildImage({
      platform: 'linux/amd64',
      layers: [await layerFromFiles({ '/arch': 'amd64' })],
    });
    const arm = await buildImage({
      platform: 'linux/arm64/v8',
      layers: [await layerFromFiles({ '/arch': 'arm64' })],
    });
    await pushImage(amd, `${registry.host}/base/multi@${amd.digest}`, { client });
    await pushImage(arm, `${registry.host}/base/multi@${arm.digest}`, { client });
    const index = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: amd.digest,
            size: amd.manifestBytes.byteLength,
            platform: { os: 'linux', architecture: 'amd64' },
          },
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: arm.digest,
            size: arm.manifestBytes.byteLength,
            platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          },
        ],
      }),
    );
    await client.putManifest(registry.host, 'base/multi', '1.0', index, MEDIA_TYPES.ociIndex);

    const events: TransferEvent[] = [];
    const watching = createRegistryClient({
      dockerConfig: false,
      onProgress: (e) => events.push(e),
    });
    const app = await buildImage({
      base: `${registry.host}/base/multi:1.0`,
      platform: 'linux/arm64',
      client: watching,
      layers: [await layerFromFiles({ '/app': 'x' })],
    });
    expect(app.manifest.annotations?.['org.opencontainers.image.base.digest']).toBe(arm.digest);
    expect(app.layers[0]?.descriptor.digest).toBe(arm.layers[0]?.descriptor.digest);
    expect(app.config.architecture).toBe('arm64');
    const pushed = await pushImage(app, `${registry.host}/apps/on-arm:v1`, { client: watching });
    expect(pushed.blobs[0]?.status).toBe('mounted');
    expect(
      events.filter(
        (e) => e.action === 'download' && e.digest === arm.layers[0]?.descriptor.digest,
      ),
    ).toEqual([]);

    const noPlatform = await buildImage({
      base: `${registry.host}/base/multi:1.0`,
      platform: 'linux/s390x',
      client,
    }).catch((x: unknown) => x);
    expect(isContainerError(noPlatform) && noPlatform.code === 'PLATFORM_NOT_FOUND').toBe(true);
    expect((noPlatform as Error).message).toMatch(
      /linux\/s390x.*available: linux\/amd64, linux\/arm64\/v8/,
    );
    const noTag = await buildImage({ base: `${registry.host}/base/multi:2.0`, client }).catch(
      (x: unknown) => x,
    );
    expect(isContainerError(noTag) && noTag.code === 'MANIFEST_NOT_FOUND').toBe(true);
    expect((noTag as Error).message).toMatch(/base\/multi:2\.0/);
  });

  it('round-trips through a docker-archive tar (skopeo reads it) and an OCI layout as bases', async () => {
    const img = await buildImage({
      layers: [await layerFromFiles({ '/hello': 'hello' })],
      config: { cmd: ['/hello'] },
    });
    const tar = join(work, 'img.tar');
    await writeDockerArchive(img, tar, { tag: 'mlship/hello:v1' });
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `docker-archive:${tar}`], { encoding: 'utf8' }),
    ) as { Layers: string[]; RepoTags?: string[] };
    expect(inspected.Layers).toHaveLength(1);
    const fromTar = await buildImage({ base: { dockerArchive: tar } });
    expect(fromTar.config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
    expect(fromTar.layers[0]?.descriptor.digest).toBe(img.layers[0]?.descriptor.digest);
    const layout = join(work, 'oci-base');
    await writeOciLayout(img, layout, { tag: 'base' });
    const fromLayout = await buildImage({ base: { ociLayout: layout, tag: 'base' } });
    expect(fromLayout.config.config?.Cmd).toEqual(['/hello']);
    expect(fromLayout.layers[0]?.descriptor.digest).toBe(img.layers[0]?.descriptor.digest);
    await expect(buildImage({ base: { ociLayout: layout, tag: 'nope' } })).rejects.toMatchObject({
      code: 'MANIFEST_NOT_FOUND',
    });
  });
});
