import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BaseImage, ContainerizeResult, RegistryClient } from '@mlship/container';
import { get } from '../command';
import type { CommandContext, CommandDef } from '../command';
import { CliError } from '../errors';
import type { Field, Settings } from '../fields';
import type { Progress } from '../output';
import { cliPackageDir } from '../package-dir';
import { openExisting } from './registry';

/** Where the model comes from: a model directory, or a registry reference. */
const MODEL_FIELDS: Field[] = [
  {
    key: 'model',
    flag: '--model <dir>',
    help: 'model directory to serve in the image',
    type: { kind: 'string' },
  },
  {
    key: 'registry',
    flag: '--registry <dir>',
    help: 'git registry to take the model from (with --ref)',
    type: { kind: 'string' },
  },
  {
    key: 'ref',
    flag: '--ref <ref>',
    help: 'registry reference, e.g. cnn#production or cnn@v2',
    type: { kind: 'string' },
  },
  {
    key: 'base',
    flag: '--base <image>',
    help: "base image: a registry reference, oci:<dir>[:tag], or host (this machine's node binary, no network)",
    type: { kind: 'string' },
    default: 'node:20-slim',
  },
  {
    key: 'projectDir',
    flag: '--project-dir <dir>',
    help: 'where @mlship/serve and its production dependencies are installed (default: the ones this CLI installed)',
    type: { kind: 'string' },
  },
  {
    key: 'port',
    flag: '--port <n>',
    help: 'port the server listens on in the container',
    type: { kind: 'int' },
    default: 8080,
  },
];

const CREDENTIAL_FIELD: Field = {
  key: 'username',
  flag: '--username <name>',
  help: 'registry user (the password or token is read from MLSHIP_REGISTRY_PASSWORD; default: the Docker config file)',
  type: { kind: 'string' },
};

/** `host`, `oci:<dir>[:tag]` or a registry reference; `host` is kept as `{ host: true }`. */
function parseBase(value: string): BaseImage | { host: true } {
  if (value === 'host') return { host: true };
  if (value.startsWith('oci:')) {
    const rest = value.slice(4);
    const colon = rest.lastIndexOf(':');
    return colon > 0
      ? { ociLayout: rest.slice(0, colon), tag: rest.slice(colon + 1) }
      : { ociLayout: rest };
  }
  return value;
}

/** Containerizes the model the settings name (checking a registry ref out to a temp dir first). */
/** @internal */
export async function build(
  ctx: CommandContext,
  s: Settings,
): Promise<{ result: ContainerizeResult; cleanup: () => Promise<void> }> {
  const container = await import('@mlship/container');
  const modelSetting = get<string | undefined>(s, 'model');
  const ref = get<string | undefined>(s, 'ref');
  if ((modelSetting === undefined) === (ref === undefined))
    throw new CliError(
      'USAGE',
      'name the model with exactly one of --model <dir> or --ref <ref> (with --registry)',
      {
        data: { path: modelSetting === undefined ? '--model' : '--ref' },
      },
    );
  let modelDir = modelSetting === undefined ? '' : path.resolve(ctx.io.cwd, modelSetting);
  let version: { version?: number; ref?: string; gitCommit?: string } = {};
  let tmp: string | undefined;
  if (ref !== undefined) {
    if (get(s, 'registry') === undefined)
      throw new CliError('USAGE', '--ref needs --registry <dir>', { data: { path: '--registry' } });
    const reg = await openExisting(ctx, s);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'mlship-image-'));
    const out = await reg.checkout(ref, path.join(tmp, 'model'));
    modelDir = out.dir;
    version = { version: out.version, ref: out.tag, gitCommit: out.commit };
  }
  const baseSetting = parseBase(get<string>(s, 'base'));
  let bar: Progress | undefined;
  const phases = ['verify', 'base', 'dependencies', 'server', 'model', 'sbom', 'done'];
  try {
    const base =
      typeof baseSetting === 'object' && 'host' in baseSetting
        ? await container.buildHostNodeBase({ compressionLevel: 1 })
        : baseSetting;
    bar = ctx.out.progress('image', phases.length - 1, '{step}');
    const result = await container.containerize({
      model: modelDir,
      ...version,
      base,
      projectDir:
        get(s, 'projectDir') === undefined
          ? cliPackageDir()
          : path.resolve(ctx.io.cwd, get<string>(s, 'projectDir')),
      port: get<number>(s, 'port'),
      onProgress: (e) => {
        bar?.update(phases.indexOf(e.phase), { step: e.message.slice(0, 60) });
        if (!ctx.out.interactive) ctx.out.note(`image: ${e.message}`);
      },
    });
    return {
      result,
      cleanup: async () =>
        tmp === undefined ? undefined : rm(tmp, { recursive: true, force: true }),
    };
  } catch (e) {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    bar?.stop();
  }
}

async function client(
  ctx: CommandContext,
  s: Settings,
  label: string,
): Promise<{ client: RegistryClient; done: () => void }> {
  const { createRegistryClient } = await import('@mlship/container');
  const username = get<string | undefined>(s, 'username');
  const password = ctx.io.env['MLSHIP_REGISTRY_PASSWORD'];
  const totals = new Map<string, { bytes: number; total: number }>();
  let bar: Progress | undefined;
  const c = createRegistryClient({
    ...(username !== undefined || password !== undefined
      ? {
          credentials: {
            ...(username === undefined ? {} : { username }),
            ...(password === undefined ? {} : { password }),
          },
        }
      : {}),
    onProgress: (e) => {
      if (e.action === 'manifest') return;
      totals.set(e.digest, { bytes: e.action === 'upload' ? e.bytes : e.total, total: e.total });
      let done = 0;
      let all = 0;
      for (const t of totals.values()) {
        done += t.bytes;
        all += t.total;
      }
      bar ??= ctx.out.progress(label, all, '{mb}');
      bar.setTotal(all);
      bar.update(done, { mb: `${(done / 1e6).toFixed(1)}/${(all / 1e6).toFixed(1)} MB` });
    },
  });
  return { client: c, done: () => bar?.stop() };
}

const describeLayers = (r: ContainerizeResult): string =>
  r.layers.map((l) => `${l.role} ${(l.size / 1e6).toFixed(2)} MB`).join(', ');

/** The `mlship image ...` commands. */
export const imageCommands: CommandDef[] = [
  {
    path: ['image', 'build'],
    summary:
      'build the model-server image (@mlship/serve + a model) as an OCI image layout, reproducibly',
    details:
      'Layers by how often they change: base, server dependencies, server, model weights, model metadata.',
    examples: [
      'mlship image build --model models/cnn --base host --out image/oci',
      'mlship image build --registry . --ref cnn#production --out image/oci --tag v2',
    ],
    fields: [
      ...MODEL_FIELDS,
      {
        key: 'out',
        flag: '--out <dir>',
        help: 'OCI image layout directory to write',
        type: { kind: 'string' },
        default: 'image/oci',
      },
      {
        key: 'tag',
        flag: '--tag <tag>',
        help: 'tag of the image in the layout',
        type: { kind: 'string' },
        default: 'latest',
      },
    ],
    async run(ctx, _args, s) {
      const { writeOciLayout } = await import('@mlship/container');
      const { result, cleanup } = await build(ctx, s);
      try {
        const w = await writeOciLayout(
          result.image,
          path.resolve(ctx.io.cwd, get<string>(s, 'out')),
          { tag: get(s, 'tag') },
        );
        ctx.out.result(
          {
            digest: w.digest,
            layout: w.dir,
            tag: get<string>(s, 'tag'),
            layers: result.layers,
            model: result.name,
            command: result.command,
          },
          () =>
            `image ${w.digest}\nlayout ${w.dir} (tag ${get<string>(s, 'tag')})\nlayers: ${describeLayers(result)}`,
        );
      } finally {
        await cleanup();
      }
    },
  },
  {
    path: ['image', 'push'],
    summary:
      'build the model-server image and push it to an OCI registry (blobs it has are skipped)',
    examples: [
      'mlship image push --registry . --ref cnn#production --to ghcr.io/acme/cnn-server:v2 --username ci',
      'mlship image push --model models/cnn --base host --to 127.0.0.1:5000/mlship/cnn-server:dev',
    ],
    fields: [
      ...MODEL_FIELDS,
      {
        key: 'to',
        flag: '--to <ref>',
        help: 'image reference to push to, e.g. ghcr.io/acme/cnn-server:v2',
        type: { kind: 'string' },
        required: true,
      },
      CREDENTIAL_FIELD,
    ],
    async run(ctx, _args, s) {
      const { pushImage } = await import('@mlship/container');
      const { result, cleanup } = await build(ctx, s);
      const c = await client(ctx, s, 'push');
      try {
        const p = await pushImage(result.image, get<string>(s, 'to'), { client: c.client });
        c.done();
        ctx.out.result(
          p,
          () =>
            `pushed ${p.reference} (${p.tags.join(', ')}): ${(p.bytesUploaded / 1e6).toFixed(2)} MB uploaded, ${p.blobs.filter((b) => b.status === 'exists').length} blobs already there`,
        );
      } finally {
        c.done();
        await cleanup();
      }
    },
  },
  {
    path: ['image', 'dockerfile'],
    summary:
      'write a Dockerfile (multi-stage, non-root, HEALTHCHECK) and its build context for the same image',
    examples: ['mlship image dockerfile --model models/cnn --out docker/ && docker build docker/'],
    fields: [
      ...MODEL_FIELDS,
      {
        key: 'out',
        flag: '--out <dir>',
        help: 'build context directory to write',
        type: { kind: 'string' },
        default: 'docker',
      },
      {
        key: 'mode',
        flag: '--mode <mode>',
        help: 'install (npm installs the server in the build) or vendor (copies the installed packages)',
        type: { kind: 'enum', values: ['install', 'vendor'] },
        default: 'install',
      },
    ],
    async run(ctx, _args, s) {
      const { writeDockerContext } = await import('@mlship/container');
      // The Dockerfile builds FROM --base; the files it copies come from an offline build on this
      // machine's node (no base image is pulled to write a Dockerfile).
      const from = get<string>(s, 'base') === 'host' ? 'node:20-slim' : get<string>(s, 'base');
      const { result, cleanup } = await build(ctx, { ...s, base: 'host' });
      try {
        const w = await writeDockerContext(
          result,
          path.resolve(ctx.io.cwd, get<string>(s, 'out')),
          {
            base: from,
            mode: get<'install' | 'vendor'>(s, 'mode'),
          },
        );
        ctx.out.result(w, () => `wrote ${w.dir}: ${w.files.join(', ')}`);
      } finally {
        await cleanup();
      }
    },
  },
  {
    path: ['image', 'k8s'],
    summary:
      'write Kubernetes manifests (Deployment with probes, Service, HPA) and a KServe InferenceService',
    examples: [
      'mlship image k8s --name cnn-server --image ghcr.io/acme/cnn-server@sha256:... --out k8s/cnn-server.yaml',
    ],
    fields: [
      {
        key: 'name',
        flag: '--name <name>',
        help: 'app name (DNS label)',
        type: { kind: 'string' },
        default: 'cnn-server',
      },
      {
        key: 'image',
        flag: '--image <ref>',
        help: 'the image, best by digest',
        type: { kind: 'string' },
        required: true,
      },
      {
        key: 'namespace',
        flag: '--namespace <ns>',
        help: 'namespace (default: the current one)',
        type: { kind: 'string' },
      },
      {
        key: 'replicas',
        flag: '--replicas <n>',
        help: 'replicas when the HPA does not act',
        type: { kind: 'int' },
        default: 2,
      },
      {
        key: 'port',
        flag: '--port <n>',
        help: 'container port of the server',
        type: { kind: 'int' },
        default: 8080,
      },
      {
        key: 'kserve',
        flag: '--kserve',
        help: 'also write the KServe InferenceService',
        type: { kind: 'boolean' },
        default: false,
      },
      {
        key: 'out',
        flag: '--out <file>',
        help: 'YAML file to write (default: stdout)',
        type: { kind: 'string' },
      },
    ],
    async run(ctx, _args, s) {
      const { kubernetesManifests, kubernetesYaml } = await import('@mlship/container');
      const k = kubernetesManifests({
        name: get(s, 'name'),
        image: get(s, 'image'),
        ...(get(s, 'namespace') === undefined ? {} : { namespace: get<string>(s, 'namespace') }),
        replicas: get(s, 'replicas'),
        port: get(s, 'port'),
      });
      const objects = [
        k.deployment,
        k.service,
        k.hpa,
        ...(get<boolean>(s, 'kserve') ? [k.inferenceService] : []),
      ];
      const yaml = kubernetesYaml(objects);
      const out = get<string | undefined>(s, 'out');
      if (out !== undefined) await writeFile(path.resolve(ctx.io.cwd, out), yaml);
      ctx.out.result(
        { file: out === undefined ? null : path.resolve(ctx.io.cwd, out), manifests: objects },
        () =>
          out === undefined
            ? yaml
            : `wrote ${path.resolve(ctx.io.cwd, out)} (${objects.length} objects)`,
      );
    },
  },
];
