import { ContainerError, checkOptionKeys } from './errors';
import { jsonBytes, sha256Digest } from './digest';
import { epochToRfc3339, resolveEpoch } from './epoch';
import type { EpochOptions } from './epoch';
import type { Blob, Layer } from './layer';
import { MEDIA_TYPES } from './media-types';
import type {
  ContainerConfig,
  Descriptor,
  HealthcheckConfig,
  HistoryEntry,
  ImageConfig,
  ImageManifest,
  Platform,
} from './types';
import { resolveBase } from './base';
import type { BaseImage } from './base';
import type { RegistryClient } from './registry/client';

/**
 * A built image: its manifest, config and layers (base layers first), each as a {@link Blob}. Write
 * it with {@link writeOciLayout} or {@link writeDockerArchive}, push it with {@link pushImage}.
 */
export interface Image {
  /** The OCI image manifest. */
  manifest: ImageManifest;
  /** Its exact bytes (what `digest` is computed over and what is pushed). */
  manifestBytes: Uint8Array;
  /** `sha256:` of `manifestBytes`: the image's identity. */
  digest: string;
  /** The image config. */
  config: ImageConfig;
  /** The config blob (its bytes are `JSON.stringify(config)`). */
  configBlob: Blob;
  /** Every layer, base layers first, in `manifest.layers` order. */
  layers: Layer[];
  /** The platform this image is for. */
  platform: Platform;
  /** Artifacts that refer to this image (e.g. its SBOM), pushed and written with it. */
  referrers: Artifact[];
}

/** An OCI artifact (a manifest with a `subject`), e.g. an SBOM that refers to an image. */
export interface Artifact {
  /** The artifact manifest (with `subject` = the image's descriptor). */
  manifest: ImageManifest;
  /** Its exact bytes. */
  manifestBytes: Uint8Array;
  /** Its digest. */
  digest: string;
  /** Its blobs: the config (often the empty descriptor `{}`) and the layers (the document). */
  blobs: Blob[];
}

/** A healthcheck in seconds (written as Docker's nanosecond `Healthcheck` in the image config). */
export interface HealthcheckOptions {
  /** The command: `['CMD', 'node', '-e', '...']`, `['CMD-SHELL', '...']`, or `['NONE']`. */
  test: string[];
  /** Seconds between checks (default 10). */
  intervalSeconds?: number;
  /** Seconds before a check fails (default 3). */
  timeoutSeconds?: number;
  /** Seconds of start-up grace (default 10). */
  startPeriodSeconds?: number;
  /** Failures before unhealthy (default 3). */
  retries?: number;
}

/** The runtime settings of an image; what is not given is inherited from the base. */
export interface ImageConfigOptions {
  /** `ENTRYPOINT`, e.g. `['node', '/app/server.js']`. Setting it resets an inherited `cmd`. */
  entrypoint?: string[];
  /** `CMD`: arguments to the entrypoint. */
  cmd?: string[];
  /** Environment, merged over the base's by name. */
  env?: Record<string, string>;
  /** Working directory. */
  workdir?: string;
  /** `USER`, e.g. `'1000:1000'` (numeric works without /etc/passwd). */
  user?: string;
  /** Ports the server listens on (TCP unless written `53/udp`). */
  exposedPorts?: (number | string)[];
  /** Labels, merged over the base's. */
  labels?: Record<string, string>;
  /** Healthcheck (Docker extension; Kubernetes uses probes instead, see the manifests). */
  healthcheck?: HealthcheckOptions;
  /** Signal that stops the container (default inherited, else SIGTERM). */
  stopSignal?: string;
}

/** Options of {@link buildImage}. */
export interface BuildImageOptions extends EpochOptions {
  /** The base: `'scratch'` (default), a registry reference, a local OCI layout or docker-archive, or a built {@link Image}. */
  base?: BaseImage;
  /** Platform to build for / pick from a multi-platform base (default `linux/<this machine's arch>`). */
  platform?: Platform | string;
  /** Layers added on top of the base, in order (least often changing first). */
  layers?: Layer[];
  /** Runtime settings. */
  config?: ImageConfigOptions;
  /** OCI annotations of the manifest (e.g. `org.opencontainers.image.source`). */
  annotations?: Record<string, string>;
  /** The registry client that pulls a registry base (default: a client with default options). */
  client?: RegistryClient;
}

const BUILD_OPTION_KEYS = [
  'base',
  'platform',
  'layers',
  'config',
  'annotations',
  'client',
  'sourceDateEpoch',
  'env',
] as const;
const CONFIG_OPTION_KEYS = [
  'entrypoint',
  'cmd',
  'env',
  'workdir',
  'user',
  'exposedPorts',
  'labels',
  'healthcheck',
  'stopSignal',
] as const;

const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/**
 * Parses `linux/amd64`, `linux/arm64/v8` or a {@link Platform}.
 *
 * @param value - the platform, or undefined for this machine's (`linux/<arch>`)
 * @returns the platform
 * @throws ContainerError `INVALID_OPTION` for a malformed string
 * @example
 * ```ts
 * parsePlatform('linux/arm64/v8'); // { os: 'linux', architecture: 'arm64', variant: 'v8' }
 * ```
 */
export function parsePlatform(value?: Platform | string): Platform {
  if (value === undefined)
    return { os: 'linux', architecture: GO_ARCH[process.arch] ?? process.arch };
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof value.os === 'string' &&
    typeof value.architecture === 'string'
  )
    return { ...value };
  if (typeof value === 'string') {
    const parts = value.split('/');
    if (parts.length >= 2 && parts.length <= 3 && parts.every((p) => /^[a-z0-9._-]+$/.test(p))) {
      const p: Platform = { os: parts[0] as string, architecture: parts[1] as string };
      if (parts[2] !== undefined) p.variant = parts[2];
      return p;
    }
  }
  throw new ContainerError(
    'INVALID_OPTION',
    `platform: expected "os/arch[/variant]" (e.g. "linux/amd64") or { os, architecture }, got ${JSON.stringify(value)}`,
    {
      data: { path: 'platform', actual: value },
    },
  );
}

/** `linux/amd64[/v8]`. @internal */
export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function stringArray(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected an array of strings, got ${JSON.stringify(value)}`,
      { data: { path: where, actual: value } },
    );
  }
  return [...(value as string[])];
}

function stringRecord(value: unknown, where: string): Record<string, string> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== 'string')
  ) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected an object of string values, got ${JSON.stringify(value)}`,
      { data: { path: where, actual: value } },
    );
  }
  return { ...(value as Record<string, string>) };
}

function seconds(value: unknown, fallback: number, where: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected a non-negative number of seconds, got ${JSON.stringify(v)}`,
      { data: { path: where, actual: v } },
    );
  }
  return Math.round(v * 1e9);
}

/** Merges runtime settings over a base config (Docker's rules: ENTRYPOINT resets CMD). @internal */
export function mergeContainerConfig(
  base: ContainerConfig | undefined,
  opts: ImageConfigOptions | undefined,
): ContainerConfig {
  checkOptionKeys(opts, CONFIG_OPTION_KEYS, 'config');
  const out: ContainerConfig = JSON.parse(JSON.stringify(base ?? {})) as ContainerConfig;
  const o = opts ?? {};
  if (o.entrypoint !== undefined) {
    out.Entrypoint = stringArray(o.entrypoint, 'config.entrypoint');
    delete out.Cmd;
  }
  if (o.cmd !== undefined) out.Cmd = stringArray(o.cmd, 'config.cmd');
  if (o.env !== undefined) {
    const env = stringRecord(o.env, 'config.env');
    const list = [...(out.Env ?? [])];
    for (const [k, v] of Object.entries(env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        throw new ContainerError(
          'INVALID_OPTION',
          `config.env: ${JSON.stringify(k)} is not a variable name`,
          { data: { path: `config.env.${k}` } },
        );
      }
      const i = list.findIndex((e) => e.startsWith(`${k}=`));
      if (i === -1) list.push(`${k}=${v}`);
      else list[i] = `${k}=${v}`;
    }
    out.Env = list;
  }
  if (o.workdir !== undefined) {
    if (typeof o.workdir !== 'string' || !o.workdir.startsWith('/')) {
      throw new ContainerError(
        'INVALID_OPTION',
        `config.workdir: expected an absolute path, got ${JSON.stringify(o.workdir)}`,
        { data: { path: 'config.workdir' } },
      );
    }
    out.WorkingDir = o.workdir;
  }
  if (o.user !== undefined) {
    if (typeof o.user !== 'string' || o.user === '') {
      throw new ContainerError(
        'INVALID_OPTION',
        `config.user: expected "uid[:gid]" or a user name, got ${JSON.stringify(o.user)}`,
        { data: { path: 'config.user' } },
      );
    }
    out.User = o.user;
  }
  if (o.exposedPorts !== undefined) {
    if (!Array.isArray(o.exposedPorts)) {
      throw new ContainerError(
        'INVALID_OPTION',
        `config.exposedPorts: expected an array of ports, got ${JSON.stringify(o.exposedPorts)}`,
        { data: { path: 'config.exposedPorts' } },
      );
    }
    const ports: Record<string, Record<string, never>> = { ...(out.ExposedPorts ?? {}) };
    for (const p of o.exposedPorts) {
      const s =
        typeof p === 'number'
          ? `${p}/tcp`
          : String(p).includes('/')
            ? String(p)
            : `${String(p)}/tcp`;
      const m = /^([0-9]{1,5})\/(tcp|udp|sctp)$/.exec(s);
      if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) {
        throw new ContainerError(
          'INVALID_OPTION',
          `config.exposedPorts: ${JSON.stringify(p)} is not a port 1-65535 (optionally "/tcp", "/udp")`,
          { data: { path: 'config.exposedPorts', actual: p } },
        );
      }
      ports[s] = {};
    }
    out.ExposedPorts = Object.fromEntries(
      Object.entries(ports).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  }
  if (o.labels !== undefined)
    out.Labels = { ...(out.Labels ?? {}), ...stringRecord(o.labels, 'config.labels') };
  if (o.stopSignal !== undefined) {
    if (typeof o.stopSignal !== 'string' || !/^(SIG[A-Z0-9]+|[0-9]+)$/.test(o.stopSignal)) {
      throw new ContainerError(
        'INVALID_OPTION',
        `config.stopSignal: expected a signal name like "SIGTERM", got ${JSON.stringify(o.stopSignal)}`,
        { data: { path: 'config.stopSignal' } },
      );
    }
    out.StopSignal = o.stopSignal;
  }
  if (o.healthcheck !== undefined) {
    const h = o.healthcheck;
    checkOptionKeys(
      h,
      ['test', 'intervalSeconds', 'timeoutSeconds', 'startPeriodSeconds', 'retries'],
      'config.healthcheck',
    );
    const test = stringArray(h.test, 'config.healthcheck.test');
    if (!['CMD', 'CMD-SHELL', 'NONE'].includes(test[0] ?? '')) {
      throw new ContainerError(
        'INVALID_OPTION',
        `config.healthcheck.test: expected ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"], got ${JSON.stringify(test)}`,
        {
          data: { path: 'config.healthcheck.test' },
        },
      );
    }
    const retries = h.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new ContainerError(
        'INVALID_OPTION',
        `config.healthcheck.retries: expected a non-negative integer, got ${JSON.stringify(retries)}`,
        { data: { path: 'config.healthcheck.retries' } },
      );
    }
    const hc: HealthcheckConfig = {
      Test: test,
      Interval: seconds(h.intervalSeconds, 10, 'config.healthcheck.intervalSeconds'),
      Timeout: seconds(h.timeoutSeconds, 3, 'config.healthcheck.timeoutSeconds'),
      StartPeriod: seconds(h.startPeriodSeconds, 10, 'config.healthcheck.startPeriodSeconds'),
      Retries: retries,
    };
    out.Healthcheck = hc;
  }
  return out;
}

function annotationsOf(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const rec = stringRecord(value, where);
  return Object.keys(rec).length === 0
    ? undefined
    : Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Assembles an image from a config and layers: computes the config blob, the manifest and its
 * digest. Exposed for builders that make their own config; most callers use {@link buildImage}.
 * @internal
 */
export function assembleImage(
  config: ImageConfig,
  layers: Layer[],
  platform: Platform,
  annotations: Record<string, string> | undefined,
): Image {
  const configBytes = jsonBytes(config);
  const configDescriptor: Descriptor = {
    mediaType: MEDIA_TYPES.ociConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.byteLength,
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: configDescriptor,
    layers: layers.map((l) => ({ ...l.descriptor })),
  };
  if (annotations !== undefined) manifest.annotations = annotations;
  const manifestBytes = jsonBytes(manifest);
  return {
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    config,
    configBlob: {
      descriptor: configDescriptor,
      data: configBytes,
      read: () => Promise.resolve(configBytes),
    },
    layers,
    platform,
    referrers: [],
  };
}

/**
 * Builds an OCI image from a base plus layers, without a daemon: the base's layers are reused as
 * they are (a registry base's blobs are not even downloaded unless the output needs them), the new
 * layers go on top, the config inherits the base's runtime settings and adds yours, `created` and
 * every history entry take the source date epoch, so the same inputs give the same digest.
 *
 * @param options - base, platform, layers, config, annotations, epoch, registry client
 * @returns the image
 * @throws ContainerError `INVALID_OPTION` for bad options; for a registry base
 *   `MANIFEST_NOT_FOUND` (missing tag), `PLATFORM_NOT_FOUND` (not in the index),
 *   `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `DIGEST_MISMATCH`; `INVALID_IMAGE` for a malformed base
 * @example
 * ```ts
 * const image = await buildImage({
 *   base: 'scratch',
 *   layers: [await layerFromFiles({ '/hello.txt': 'hi\n' })],
 *   config: { cmd: ['/hello'] },
 * });
 * console.log(image.digest);
 * ```
 */
export async function buildImage(options: BuildImageOptions = {}): Promise<Image> {
  checkOptionKeys(options, BUILD_OPTION_KEYS, 'buildImage options');
  const platform = parsePlatform(options.platform);
  const epoch = resolveEpoch(options);
  const created = epochToRfc3339(epoch);
  const layers = options.layers ?? [];
  if (
    !Array.isArray(layers) ||
    layers.some(
      (l) =>
        typeof l !== 'object' ||
        l === null ||
        typeof l.diffId !== 'string' ||
        typeof l.descriptor?.digest !== 'string',
    )
  ) {
    throw new ContainerError(
      'INVALID_OPTION',
      'layers: expected an array of layers (from createLayer, layerFromFiles, layerFromDirectory)',
      { data: { path: 'layers' } },
    );
  }
  const base = await resolveBase(options.base ?? 'scratch', platform, options.client);
  const config: ImageConfig = {
    created,
    architecture: base.config?.architecture ?? platform.architecture,
    os: base.config?.os ?? platform.os,
    config: mergeContainerConfig(base.config?.config, options.config),
    rootfs: {
      type: 'layers',
      diff_ids: [...(base.config?.rootfs.diff_ids ?? []), ...layers.map((l) => l.diffId)],
    },
    history: [
      ...(base.config?.history ?? []),
      ...layers.map((l): HistoryEntry => ({
        created,
        created_by: l.createdBy ?? 'mlship-container layer',
      })),
    ],
  };
  const variant = base.config?.variant ?? platform.variant;
  if (variant !== undefined) config.variant = variant;
  if (config.config !== undefined && Object.keys(config.config).length === 0) delete config.config;
  const annotations: Record<string, string> = {};
  if (base.name !== undefined) {
    annotations['org.opencontainers.image.base.name'] = base.name;
    if (base.digest !== undefined)
      annotations['org.opencontainers.image.base.digest'] = base.digest;
  }
  Object.assign(annotations, annotationsOf(options.annotations, 'annotations') ?? {});
  const image = assembleImage(
    config,
    [...base.layers, ...layers],
    { os: config.os, architecture: config.architecture, ...(variant ? { variant } : {}) },
    annotationsOf(annotations, 'annotations'),
  );
  return image;
}
