// The generated Dockerfile, built for real: with no Docker engine here, podman (buildah inside, the
// Dockerfile semantics Docker users rely on) builds writeDockerContext's context in `vendor` mode
// (offline) on a base pushed to a real registry on 127.0.0.1, then runs the image with runc. The
// image must be the equivalent the README promises: the same user, environment, entrypoint,
// command, ports, labels, stop signal and healthcheck as the daemonless image, the same model files,
// and a server inside that answers :predict as the model does on this machine.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildHostNodeBase,
  containerize,
  createRegistryClient,
  pushImage,
  writeDockerContext,
} from '../src/index';
import { freePort, startTestRegistry } from '../src/testing';
import type { TestRegistry } from '../src/testing';
import { expectServesModel, saveModel } from './model-server';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = `mlship-dockerfile-${process.pid}-${randomBytes(3).toString('hex')}`;

let work: string;
let registry: TestRegistry;
let env: NodeJS.ProcessEnv;
let podmanArgs: string[];

/** podman with this test's own storage and settings (nothing of the host's podman is touched). */
async function podman(...args: string[]): Promise<string> {
  const { stdout } = await run('podman', [...podmanArgs, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Runs a script with the image's own node (in place of its entrypoint) and returns its output. */
function nodeInImage(script: string): Promise<string> {
  return podman(
    'run',
    '--rm',
    '--network',
    'host',
    '--entrypoint',
    'node',
    `localhost/${name}`,
    '-e',
    script,
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlship-dockerfile-'));
  registry = await startTestRegistry();
  // On this host podman works only with runc and without default ulimits (crun fails here).
  const conf = join(work, 'containers.conf');
  await writeFile(conf, '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n');
  env = { ...process.env, CONTAINERS_CONF: conf };
  podmanArgs = [
    '--root',
    join(work, 'storage'),
    '--runroot',
    join(work, 'run'),
    '--storage-driver',
    'overlay',
  ];
});

afterAll(async () => {
  if (podmanArgs) {
    await podman('rm', '--force', '--time', '0', name).catch(() => undefined);
    await podman('rmi', '--all', '--force').catch(() => undefined);
  }
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the generated Dockerfile', () => {
  it('builds with podman into an image equivalent to the daemonless one, which serves predictions', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const baseRef = `${registry.host}/mlship/node-base:host`;
    await pushImage(await buildHostNodeBase({ compressionLevel: 1 }), baseRef, { client });
    const built = await containerize({
      model: await saveModel(join(work, 'cnn'), 3),
      base: baseRef,
      client,
      projectDir: packageDir,
      version: 3,
      ref: 'cnn@v3.0.0',
      gitCommit: 'c0ffee3',
      compressionLevel: 1,
    });
    const context = join(work, 'context');
    await writeDockerContext(built, context, { mode: 'vendor', base: baseRef });

    // --format docker: as `docker build` does, so HEALTHCHECK is kept (OCI configs have no field).
    await podman(
      'build',
      '--format',
      'docker',
      '--tls-verify=false',
      '-t',
      `localhost/${name}`,
      context,
    );
    const [inspected] = JSON.parse(await podman('image', 'inspect', `localhost/${name}`)) as {
      Config: Record<string, unknown>;
      Healthcheck?: { Test: string[]; Interval: number; Timeout: number; StartPeriod: number };
    }[];
    const want = built.image.config.config ?? {};
    const got = inspected?.Config ?? {};
    expect(got['User']).toBe(want.User);
    expect(got['WorkingDir']).toBe(want.WorkingDir);
    expect(got['Entrypoint']).toEqual(want.Entrypoint);
    expect(got['Cmd']).toEqual(want.Cmd);
    expect(got['Env']).toEqual(want.Env);
    expect(got['ExposedPorts']).toEqual(want.ExposedPorts);
    expect(got['StopSignal']).toBe(want.StopSignal);
    // buildah adds its own version label; every label of the daemonless image is there as it was
    expect(got['Labels']).toMatchObject(want.Labels ?? {});
    expect(want.Labels?.['dev.mlship.model.ref']).toBe('cnn@v3.0.0');
    expect(inspected?.Healthcheck?.Test).toEqual(want.Healthcheck?.Test);
    expect(inspected?.Healthcheck?.Interval).toBe(want.Healthcheck?.Interval);

    // The same model files, byte for byte, read inside the image by its own node.
    const sums = await nodeInImage(
      `const { createHash } = require('node:crypto'); const fs = require('node:fs');
       const dir = ${JSON.stringify(built.model.imageDir)};
       for (const f of fs.readdirSync(dir).sort())
         console.log(f, createHash('sha256').update(fs.readFileSync(dir + '/' + f)).digest('hex'));`,
    );
    const meta = JSON.parse(
      await nodeInImage(
        `process.stdout.write(require('node:fs').readFileSync(${JSON.stringify(`${built.model.imageDir}/mlship.json`)}, 'utf8'))`,
      ),
    ) as { files: Record<string, { sha256: string }> };
    const listed = new Map(
      sums
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    expect([...listed.keys()].sort()).toEqual([...built.model.files].sort());
    for (const [file, { sha256 }] of Object.entries(meta.files))
      expect(`${file} ${listed.get(file)}`).toBe(`${file} ${sha256}`);

    // Run as built (its entrypoint and user), on the host network at a free port on 127.0.0.1.
    const port = await freePort();
    const cmd = (want.Cmd ?? []).map((a, i, all) =>
      all[i - 1] === '--host' ? '127.0.0.1' : all[i - 1] === '--port' ? String(port) : a,
    );
    await podman('run', '-d', '--name', name, '--network', 'host', `localhost/${name}`, ...cmd);
    await expectServesModel(`http://127.0.0.1:${port}`, 3, () => podman('logs', name));
    expect((await podman('inspect', '--format', '{{.Config.User}}', name)).trim()).toBe(want.User);
    await podman('stop', '--time', '20', name);
    expect(await podman('logs', name)).toMatch(/"event":"stopped"/);
  }, 480_000); // 45 s idle, 106 s with the whole suite beside it
});
