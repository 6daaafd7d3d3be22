import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  asPackageError,
  createFsAdapter,
  isValidName,
  NAME_GRAMMAR,
  joinPath,
  verifyModelFiles,
  MODEL_JSON_FILE,
  MODEL_META_FILE,
} from '@mlship/core';
import type { MlshipFs, ModelMeta } from '@mlship/core';
import { ContainerError, checkOptionKeys } from './errors';
import { jsonBytes } from './digest';
import { epochToRfc3339, resolveEpoch } from './epoch';
import { buildImage } from './image';
import type { Image } from './image';
import { createLayer } from './layer';
import type { Layer, LayerCache, LayerEntry } from './layer';
import type { BaseImage } from './base';
import { MEDIA_TYPES } from './media-types';
import {
  binOf,
  findPackageDir,
  hoistedLayout,
  packageEntries,
  productionClosure,
  readLockfile,
} from './node-modules';
import type { InstalledPackage } from './node-modules';
import { createReferrer } from './push';
import type { RegistryClient } from './registry/client';
import { spdxSbom } from './sbom';
import type { SbomPackage, SpdxDocument } from './sbom';
import type { Platform } from './types';

/**
 * The base a real user's model-server image starts from by default: the official Node.js 20 slim
 * image on Docker Hub (Debian, glibc, a `node` user with uid 1000).
 *
 * @example
 * ```ts
 * import { DEFAULT_NODE_BASE } from '@mlship/container';
 * console.log(DEFAULT_NODE_BASE); // node:20-slim
 * ```
 */
export const DEFAULT_NODE_BASE = 'node:20-slim';

/** The server package containerize installs by default. */
export const DEFAULT_SERVER_PACKAGE = '@mlship/serve';

/** Where things go in the image. */
export const IMAGE_PATHS = { app: '/app', models: '/models' } as const;

/** Which part of the model-server image a layer holds, least often changing first. */
export type LayerRole = 'base' | 'dependencies' | 'server' | 'model-weights' | 'model-metadata';

/** A progress event of {@link containerize}. */
export interface ContainerizeProgress {
  /** The step. */
  phase: 'verify' | 'base' | 'dependencies' | 'server' | 'model' | 'sbom' | 'done';
  /** A human-readable line. */
  message: string;
}

/** Options of {@link containerize}. */
export interface ContainerizeOptions {
  /** Seconds since 1970 for every mtime and `created` (default `SOURCE_DATE_EPOCH`, else 0). */
  sourceDateEpoch?: number;
  /** The model directory to serve (verified with its mlship.json hashes before anything is built). */
  model: string;
  /** The name the model is served under (default `mlship.json` `name`): `/v1/models/<name>:predict`. */
  name?: string;
  /** The registry version (annotation `dev.mlship.model.version`), e.g. 2. */
  version?: number | string;
  /** The registry reference (annotation `dev.mlship.model.ref`), e.g. `cnn@v2.0.0`. */
  ref?: string;
  /** The git commit of the registry version (annotation `org.opencontainers.image.revision`). */
  gitCommit?: string;
  /** The base image (default {@link DEFAULT_NODE_BASE}). It must have `node` on its PATH. */
  base?: BaseImage;
  /** Platform (default this machine's). */
  platform?: Platform | string;
  /** Where the server package and its production dependencies are installed (default `process.cwd()`). */
  projectDir?: string;
  /** The server package: its name (default `@mlship/serve`), or a directory, and the bin to run. */
  server?: { packageName?: string; packageDir?: string; bin?: string };
  /** The port the server listens on in the container (default 8080). */
  port?: number;
  /** The user the server runs as (default `1000:1000`, non-root). */
  user?: string;
  /** Environment of the server process (`NODE_ENV=production` is set). */
  env?: Record<string, string>;
  /** More server arguments after `--model/--host/--port`. */
  args?: string[];
  /** More manifest annotations. */
  annotations?: Record<string, string>;
  /**
   * Leave out of the image the files Node.js never loads to run a package: source maps (`*.map`),
   * type declarations (`*.d.ts`, `*.d.cts`, `*.d.mts`) and `*.tsbuildinfo` (default true; with
   * TensorFlow.js that is most of the dependency bytes).
   */
  prune?: boolean;
  /** gzip level of the built layers, 1-9 (default 6). */
  compressionLevel?: number;
  /** Reuse unchanged layers across builds in this process (see {@link createLayerCache}). */
  cache?: LayerCache;
  /** Attach an SPDX SBOM of the npm packages as a referrer artifact (default true). */
  sbom?: boolean;
  /** Registry client for pulling a registry base. */
  client?: RegistryClient;
  /** File system for the model directory (default node's). */
  fs?: MlshipFs;
  /** Progress of the build. */
  onProgress?: (event: ContainerizeProgress) => void;
}

const OPTION_KEYS = [
  'model',
  'name',
  'version',
  'ref',
  'gitCommit',
  'base',
  'platform',
  'projectDir',
  'server',
  'port',
  'user',
  'env',
  'args',
  'annotations',
  'sbom',
  'prune',
  'compressionLevel',
  'cache',
  'client',
  'fs',
  'onProgress',
  'sourceDateEpoch',
] as const;

/** One layer of a containerized image, with its role. */
export interface ContainerizedLayer {
  /** What it holds. */
  role: LayerRole;
  /** Compressed digest. */
  digest: string;
  /** Compressed size. */
  size: number;
  /** Uncompressed digest. */
  diffId: string;
}

/** What {@link containerize} built. */
export interface ContainerizeResult {
  /** The image (with its SBOM in `referrers`): write it with {@link writeOciLayout} or push it with {@link pushImage}. */
  image: Image;
  /** Each layer with its role, base layers first. */
  layers: ContainerizedLayer[];
  /** The npm packages in the image (server first), with lockfile integrity. */
  packages: SbomPackage[];
  /** The SPDX document (also attached as the referrer artifact), or undefined with `sbom: false`. */
  sbom?: SpdxDocument;
  /** The lockfile the integrity came from, when one was found. */
  lockfile?: string;
  /** The validated mlship.json of the model. */
  meta: ModelMeta;
  /** The served model name. */
  name: string;
  /** The container's command: entrypoint + cmd. */
  command: string[];
  /** The model directory on this machine, and the verified files copied from it (relative paths). */
  model: { dir: string; files: string[]; imageDir: string };
  /** The server package. */
  server: { name: string; version: string };
  /** Every installed package copied into the image: where it is in the image and where it came from. */
  installed: {
    name: string;
    version: string;
    imagePath: string;
    hostDir: string;
    workspace: boolean;
  }[];
}

function fail(message: string, path: string, actual?: unknown): ContainerError {
  return new ContainerError('INVALID_OPTION', message, {
    data: { path, ...(actual === undefined ? {} : { actual }) },
  });
}

/**
 * Packages a model and the mlship model server into an OCI image, without a Docker daemon. The
 * layers are ordered by how often they change, so a new model version only changes the last two:
 *
 * 1. the base (default `node:20-slim`);
 * 2. the server's production dependencies, copied from the project's installed `node_modules` as
 *    the lockfile resolved them (npm-style hoisted layout under `/app/node_modules`; no network);
 * 3. the server code (`@mlship/*` packages);
 * 4. the model weights (`/models/<name>/*.bin`);
 * 5. the model metadata (`/models/<name>/model.json` and `mlship.json`).
 *
 * The server runs as a non-root user (`node /app/node_modules/@mlship/serve/<bin> --model
 * <name>=/models/<name> --host 0.0.0.0 --port 8080`), with a healthcheck on `GET /v2/health/ready`.
 * Annotations (and labels) link the image to the registry version: model name, version, ref, git
 * commit, dataset fingerprints. An SPDX SBOM of every npm package (name, version, lockfile
 * integrity) is attached as an OCI artifact referring to the image. Same inputs, same digest.
 *
 * @param options - model, name/version/ref/commit, base, project dir, server package, port, user, epoch
 * @returns the image, its layers by role, the packages and the SBOM
 * @throws ContainerError `NOT_A_MODEL_DIR` / `INVALID_META` / `INTEGRITY` for a bad model directory,
 *   `DEPENDENCY_NOT_FOUND` when the server or one of its dependencies is not installed (or not
 *   built), `INVALID_OPTION`, and the base's errors (`MANIFEST_NOT_FOUND`, `PLATFORM_NOT_FOUND`, ...)
 * @example
 * ```ts
 * const { image } = await containerize({ model: './models/cnn', version: 2, gitCommit: 'abc123' });
 * await writeOciLayout(image, './out/oci', { tag: 'cnn-v2' });
 * await pushImage(image, 'ghcr.io/acme/cnn-server:v2');
 * ```
 */
export async function containerize(options: ContainerizeOptions): Promise<ContainerizeResult> {
  if (typeof options !== 'object' || options === null)
    throw fail('containerize: expected an options object with "model"', 'options');
  checkOptionKeys(options, OPTION_KEYS, 'containerize options');
  if (typeof options.model !== 'string' || options.model === '')
    throw fail(
      `model: expected the model directory, got ${JSON.stringify(options.model)}`,
      'model',
      options.model,
    );
  const progress = (phase: ContainerizeProgress['phase'], message: string): void =>
    options.onProgress?.({ phase, message });
  const epoch = resolveEpoch(
    options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch },
  );
  const epochOpts = {
    sourceDateEpoch: epoch,
    ...(options.compressionLevel === undefined
      ? {}
      : { compressionLevel: options.compressionLevel }),
    ...(options.cache === undefined ? {} : { cache: options.cache }),
  };
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw fail(`port: expected an integer 1-65535, got ${JSON.stringify(port)}`, 'port', port);
  const user = options.user ?? '1000:1000';
  if (typeof user !== 'string' || /^0(:|$)|^root(:|$)/.test(user))
    throw fail(
      `user: expected a non-root "uid:gid" or user name, got ${JSON.stringify(user)}`,
      'user',
      user,
    );

  // 1. The model directory: verified before anything is packaged.
  progress('verify', `verifying ${options.model}`);
  const io = createFsAdapter(options.fs);
  let verified;
  try {
    verified = await verifyModelFiles(options.model, { fs: io });
  } catch (e) {
    throw asPackageError(e, ContainerError, {
      code: 'READ_FAILED',
      message: `reading model directory ${options.model}`,
    });
  }
  const meta = verified.meta;
  const name = options.name ?? meta.name;
  if (!isValidName(name))
    throw new ContainerError(
      'INVALID_NAME',
      `name: ${JSON.stringify(name)} is not a valid model name (expected ${NAME_GRAMMAR})`,
      { data: { path: 'name', actual: name } },
    );
  const modelDir = `${IMAGE_PATHS.models}/${name}`;

  // 2. The server package and its production closure.
  const projectDir = options.projectDir ?? process.cwd();
  const serverName = options.server?.packageName ?? DEFAULT_SERVER_PACKAGE;
  const serverDir = options.server?.packageDir ?? findPackageDir(serverName, projectDir);
  if (serverDir === undefined || !existsSync(join(serverDir, 'package.json'))) {
    throw new ContainerError(
      'DEPENDENCY_NOT_FOUND',
      `the server package ${serverName} is not installed in ${projectDir} (or its parents): add it as a dependency and install`,
      {
        data: { path: projectDir, package: serverName },
      },
    );
  }
  progress('dependencies', `resolving the production dependencies of ${serverName}`);
  const { root, packages } = productionClosure(serverDir);
  const bin = options.server?.bin ?? binOf(root.dir, 'mlship-serve');
  if (bin === undefined || !existsSync(join(root.dir, bin))) {
    throw new ContainerError(
      'DEPENDENCY_NOT_FOUND',
      `${root.name}: ${bin === undefined ? 'no "bin" in package.json' : `${bin} does not exist`} (build the package first, or pass server.bin)`,
      {
        data: { path: root.dir, package: root.name },
      },
    );
  }
  const slots = hoistedLayout(root, packages);
  const lock = readLockfile(projectDir);
  const isServerCode = (p: InstalledPackage): boolean =>
    p.workspace || p.name.startsWith('@mlship/');
  const depEntries: LayerEntry[] = [{ path: IMAGE_PATHS.app, type: 'directory' }];
  const codeEntries: LayerEntry[] = [{ path: IMAGE_PATHS.app, type: 'directory' }];
  const sbomPackages: SbomPackage[] = [];
  const installed: ContainerizeResult['installed'] = [];
  for (const [slot, dir] of slots) {
    const pkg = packages.get(dir) as InstalledPackage;
    installed.push({
      name: pkg.name,
      version: pkg.version,
      imagePath: `${IMAGE_PATHS.app}/${slot}`,
      hostDir: pkg.dir,
      workspace: pkg.workspace,
    });
    const entries = await packageEntries(pkg, slot, IMAGE_PATHS.app, options.prune ?? true);
    (isServerCode(pkg) ? codeEntries : depEntries).push(...entries);
    const integrity = lock?.integrity.get(`${pkg.name}@${pkg.version}`);
    const entry: SbomPackage = {
      name: pkg.name,
      version: pkg.version,
      path: `${IMAGE_PATHS.app}/${slot}`,
      dependsOn: Object.values(pkg.dependencies).map((d) => {
        const dep = packages.get(d) as InstalledPackage;
        return `${dep.name}@${dep.version}`;
      }),
    };
    if (integrity !== undefined) entry.integrity = integrity;
    if (pkg.license !== undefined) entry.license = pkg.license;
    if (!sbomPackages.some((p) => p.name === entry.name && p.version === entry.version))
      sbomPackages.push(entry);
  }
  // The server first: it is what the SBOM describes.
  const rootIndex = sbomPackages.findIndex(
    (p) => p.name === root.name && p.version === root.version,
  );
  if (rootIndex > 0) sbomPackages.unshift(...sbomPackages.splice(rootIndex, 1));
  const thirdParty = new Set(
    [...slots.values()].filter((d) => !isServerCode(packages.get(d) as InstalledPackage)),
  );
  const deps = await createLayer(depEntries, {
    ...epochOpts,
    createdBy: `mlship: production dependencies of ${root.name} (${thirdParty.size} packages)`,
  });
  progress(
    'server',
    `server code: ${[
      ...new Set(
        [...slots.values()]
          .map((d) => packages.get(d) as InstalledPackage)
          .filter(isServerCode)
          .map((p) => `${p.name}@${p.version}`),
      ),
    ].join(', ')}`,
  );
  const code = await createLayer(codeEntries, {
    ...epochOpts,
    createdBy: `mlship: server code ${root.name}@${root.version}`,
  });

  // 3. The model, weights apart from metadata.
  progress('model', `model ${name}: ${verified.files.length} files`);
  const weightEntries: LayerEntry[] = [{ path: modelDir, type: 'directory' }];
  const metaEntries: LayerEntry[] = [{ path: modelDir, type: 'directory' }];
  for (const f of verified.files) {
    const target =
      f.path === MODEL_META_FILE || f.path === MODEL_JSON_FILE ? metaEntries : weightEntries;
    target.push({ path: `${modelDir}/${f.path}`, source: joinPath(options.model, f.path) });
  }
  const weights = await createLayer(weightEntries, {
    ...epochOpts,
    fs: io.fs,
    createdBy: `mlship: model ${name} weights`,
  });
  const metadata = await createLayer(metaEntries, {
    ...epochOpts,
    fs: io.fs,
    createdBy: `mlship: model ${name} metadata (model.json, mlship.json)`,
  });

  // 4. The image.
  const annotations: Record<string, string> = {
    'org.opencontainers.image.title': `${name} model server`,
    'org.opencontainers.image.description': `mlship model server (${root.name}@${root.version}) serving model ${name}`,
    'org.opencontainers.image.created': epochToRfc3339(epoch),
    'dev.mlship.model.name': name,
    'dev.mlship.model.created': meta.created,
    'dev.mlship.server': `${root.name}@${root.version}`,
  };
  if (options.version !== undefined) {
    annotations['dev.mlship.model.version'] = String(options.version);
    annotations['org.opencontainers.image.version'] = /^[0-9]+$/.test(String(options.version))
      ? `v${String(options.version)}`
      : String(options.version);
  }
  if (options.ref !== undefined) annotations['dev.mlship.model.ref'] = options.ref;
  if (options.gitCommit !== undefined) {
    if (!/^[0-9a-f]{7,64}$/.test(options.gitCommit))
      throw fail(
        `gitCommit: expected a hex commit id, got ${JSON.stringify(options.gitCommit)}`,
        'gitCommit',
        options.gitCommit,
      );
    annotations['org.opencontainers.image.revision'] = options.gitCommit;
    annotations['dev.mlship.git.commit'] = options.gitCommit;
  }
  for (const [role, ds] of Object.entries(meta.datasets ?? {})) {
    if (typeof ds?.fingerprint === 'string')
      annotations[`dev.mlship.dataset.${role}.fingerprint`] = ds.fingerprint;
  }
  for (const [k, v] of Object.entries(options.annotations ?? {})) annotations[k] = v;
  const entry = `${IMAGE_PATHS.app}/node_modules/${root.name}/${bin}`;
  const args = [
    '--model',
    `${name}=${modelDir}`,
    '--host',
    '0.0.0.0',
    '--port',
    String(port),
    ...(options.args ?? []),
  ];
  progress(
    'base',
    `base ${typeof options.base === 'string' || options.base === undefined ? (options.base ?? DEFAULT_NODE_BASE) : 'image'}`,
  );
  const image = await buildImage({
    base: options.base ?? DEFAULT_NODE_BASE,
    ...(options.platform === undefined ? {} : { platform: options.platform }),
    ...(options.client === undefined ? {} : { client: options.client }),
    sourceDateEpoch: epoch,
    layers: [deps, code, weights, metadata],
    config: {
      entrypoint: ['node', entry],
      cmd: args,
      env: { NODE_ENV: 'production', ...(options.env ?? {}) },
      workdir: IMAGE_PATHS.app,
      user,
      exposedPorts: [port],
      labels: annotations,
      stopSignal: 'SIGTERM',
      healthcheck: {
        test: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${port}/v2/health/ready').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        intervalSeconds: 10,
        timeoutSeconds: 3,
        startPeriodSeconds: 20,
        retries: 3,
      },
    },
    annotations,
  });
  const baseCount = image.layers.length - 4;
  const roles: LayerRole[] = [
    ...(Array(baseCount).fill('base') as LayerRole[]),
    'dependencies',
    'server',
    'model-weights',
    'model-metadata',
  ];
  const layers = image.layers.map((l: Layer, i): ContainerizedLayer => ({
    role: roles[i] as LayerRole,
    digest: l.descriptor.digest,
    size: l.descriptor.size,
    diffId: l.diffId,
  }));
  const result: ContainerizeResult = {
    image,
    layers,
    packages: sbomPackages,
    meta,
    name,
    command: ['node', entry, ...args],
    model: { dir: options.model, files: verified.files.map((f) => f.path), imageDir: modelDir },
    installed,
    server: { name: root.name, version: root.version },
  };
  if (lock !== undefined) result.lockfile = lock.path;
  if (options.sbom !== false) {
    progress('sbom', `SPDX SBOM of ${sbomPackages.length} npm packages`);
    const sbom = spdxSbom(`${name} model server`, sbomPackages, epoch);
    image.referrers.push(
      createReferrer(image, jsonBytes(sbom), MEDIA_TYPES.spdxJson, {
        'org.opencontainers.image.title': 'sbom.spdx.json',
      }),
    );
    result.sbom = sbom;
  }
  progress('done', `image ${image.digest}`);
  return result;
}
