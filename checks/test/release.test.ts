// Release rehearsal: what `pnpm release` does, against a real npm registry on 127.0.0.1.
// Verdaccio (no uplinks, fresh storage) stands in for npmjs. In a scratch copy of the repository,
// `changeset version` applies the pending changesets and `changeset publish` publishes every
// publishable package to it. Then a fresh npm project outside the workspace installs
// @mlship/model and @mlship/registry with plain `npm` (the `@mlship` scope from the local
// registry, everything else from the npm registry as a user's would), imports them from ESM and
// CommonJS, trains one step on the wasm backend, saves the model directory and registers it.
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/process';
import { pathWithPnpm, scratchCopy, startVerdaccio } from '../src/release';
import type { LocalRegistry } from '../src/release';
import { ROOT, publishablePackages } from '../src/workspace';
import type { Manifest } from '../src/workspace';

const STEP_LIMIT_MS = 240_000;

let work: string;
let scratch: string;
let fresh: string;
let registry: LocalRegistry | undefined;
let env: NodeJS.ProcessEnv;
const packages = publishablePackages();
const versions = new Map<string, string>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlship-release-'));
  scratch = join(work, 'repo');
  fresh = join(work, 'fresh-project');
  registry = await startVerdaccio(join(work, 'verdaccio'));
  const host = registry.url.replace(/^http:/, '');
  // npm and pnpm read the scope's registry and the token from this user config only; the user's
  // own ~/.npmrc is not read and not touched.
  const npmrc = join(work, 'npmrc');
  await writeFile(
    npmrc,
    `@mlship:registry=${registry.url}\n${host}:_authToken=${registry.token}\n`,
  );
  env = {
    ...process.env,
    npm_config_userconfig: npmrc,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    PATH: await pathWithPnpm(join(work, 'bin')),
  };
  await scratchCopy(scratch);
  // pnpm reads the workspace's .npmrc for the scope's registry.
  await writeFile(
    join(scratch, '.npmrc'),
    `@mlship:registry=${registry.url}\n${host}:_authToken=${registry.token}\n`,
  );
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

// The steps of one rehearsal, in order: each uses what the previous one published or installed.
describe('release rehearsal', () => {
  it(
    'changeset version bumps every publishable package and writes its CHANGELOG',
    async () => {
      const result = await run(join(scratch, 'node_modules', '.bin', 'changeset'), ['version'], {
        cwd: scratch,
        env,
        timeoutMs: STEP_LIMIT_MS,
      });
      expect(result.status, result.output).toBe(0);
      expect(
        readdirSync(join(scratch, '.changeset')).filter(
          (f) => f.endsWith('.md') && f !== 'README.md',
        ),
      ).toEqual([]);
      for (const pkg of packages) {
        const copy = join(scratch, relative(ROOT, pkg.dir));
        const bumped = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as Manifest;
        expect(bumped.version, pkg.manifest.name).not.toBe(pkg.manifest.version);
        expect(readFileSync(join(copy, 'CHANGELOG.md'), 'utf8')).toContain(`## ${bumped.version}`);
        versions.set(pkg.manifest.name, bumped.version);
      }
    },
    STEP_LIMIT_MS + 10_000,
  );

  it(
    'changeset publish publishes every publishable package to the registry, workspace ranges resolved',
    async () => {
      const result = await run(
        join(scratch, 'node_modules', '.bin', 'changeset'),
        ['publish', '--no-git-tag'],
        {
          cwd: scratch,
          env,
          timeoutMs: STEP_LIMIT_MS,
        },
      );
      expect(result.status, result.output).toBe(0);
      for (const pkg of packages) {
        const response = await fetch(`${registry?.url}${pkg.manifest.name.replace('/', '%2f')}`);
        expect(response.status, pkg.manifest.name).toBe(200);
        const packument = (await response.json()) as {
          'dist-tags': Record<string, string>;
          versions: Record<string, Manifest>;
        };
        const version = versions.get(pkg.manifest.name) ?? '';
        expect(packument['dist-tags'].latest).toBe(version);
        const published = packument.versions[version];
        for (const deps of [published?.dependencies, published?.peerDependencies]) {
          for (const range of Object.values(deps ?? {})) expect(range).not.toMatch(/^workspace:/);
        }
      }
    },
    STEP_LIMIT_MS + 10_000,
  );

  it(
    'a fresh npm project outside the workspace installs @mlship/model and @mlship/registry from it',
    async () => {
      await rm(fresh, { recursive: true, force: true });
      await mkdir(fresh, { recursive: true });
      await writeFile(
        join(fresh, 'package.json'),
        '{ "name": "fresh-project", "version": "1.0.0", "private": true }\n',
      );
      // @mlship/tf too, as @mlship/model's README says: the script chooses the backend with initRuntime.
      const result = await run(
        'npm',
        ['install', '--prefer-offline', '@mlship/model', '@mlship/registry', '@mlship/tf'],
        { cwd: fresh, env, timeoutMs: STEP_LIMIT_MS },
      );
      expect(result.status, result.output).toBe(0);
      for (const name of [
        '@mlship/model',
        '@mlship/registry',
        '@mlship/tf',
        '@mlship/data',
        '@mlship/core',
      ]) {
        const installed = JSON.parse(
          readFileSync(join(fresh, 'node_modules', name, 'package.json'), 'utf8'),
        ) as Manifest;
        expect(installed.version, name).toBe(versions.get(name));
        expect(readFileSync(join(fresh, 'node_modules', name, 'LICENSE'), 'utf8')).toMatch(
          /^MIT License/,
        );
      }
    },
    STEP_LIMIT_MS + 10_000,
  );

  it(
    'imports them from ESM, trains one step on wasm, saves the model directory and registers it',
    async () => {
      await writeFile(
        join(fresh, 'train.mjs'),
        `import { buildModel, defaultCnnSpec, saveModelDir, train } from '@mlship/model';
import { openRegistry } from '@mlship/registry';
import { initRuntime } from '@mlship/tf';
const runtime = await initRuntime({ backend: 'wasm' });
const n = 16;
const ds = {
  images: Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 7919) % 256),
  shape: [n, 28, 28, 1],
  labels: Int32Array.from({ length: n }, (_, i) => i % 10),
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};
const model = buildModel(defaultCnnSpec(), { seed: 1 });
let steps = 0;
const result = await train(model, ds, {
  epochs: 1, batchSize: n, seed: 1, progressEvery: 1, onProgress: () => { steps++; },
});
const saved = await saveModelDir(model, 'cnn', { name: 'cnn', labels: ds.classNames });
const registry = await openRegistry({ dir: 'registry' });
const version = await registry.register('cnn', saved.dir);
console.log(JSON.stringify({ backend: runtime.backend, epochs: result.history.length, loss: result.history[0].loss, steps, tag: version.tag }));
`,
      );
      const result = await run(process.execPath, ['train.mjs'], {
        cwd: fresh,
        env,
        timeoutMs: STEP_LIMIT_MS,
      });
      expect(result.status, result.output).toBe(0);
      const line = result.output.trim().split('\n').at(-1) ?? '';
      const out = JSON.parse(line) as {
        backend: string;
        epochs: number;
        loss: number;
        steps: number;
        tag: string;
      };
      expect(out).toMatchObject({ backend: 'wasm', epochs: 1, tag: 'cnn@v1.0.0' });
      expect(out.steps).toBeGreaterThanOrEqual(1);
      expect(Number.isFinite(out.loss)).toBe(true);
    },
    STEP_LIMIT_MS + 10_000,
  );

  it(
    'requires them from CommonJS',
    async () => {
      await writeFile(
        join(fresh, 'require.cjs'),
        `const model = require('@mlship/model');
const registry = require('@mlship/registry');
const spec = model.validateSpec(model.defaultCnnSpec());
console.log(JSON.stringify({ spec: spec.name, train: typeof model.train, open: typeof registry.openRegistry, error: registry.isRegistryError(new registry.RegistryError('INVALID_REF', 'x')) }));
`,
      );
      const result = await run(process.execPath, ['require.cjs'], {
        cwd: fresh,
        env,
        timeoutMs: STEP_LIMIT_MS,
      });
      expect(result.status, result.output).toBe(0);
      expect(JSON.parse(result.output.trim().split('\n').at(-1) ?? '')).toEqual({
        spec: 'cnn',
        train: 'function',
        open: 'function',
        error: true,
      });
    },
    STEP_LIMIT_MS + 10_000,
  );
});
