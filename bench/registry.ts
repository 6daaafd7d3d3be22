/**
 * @mlship/registry benchmark: time to register and to check out a "model A"-sized model
 * (conv2d 320, conv2d_1 18,496, dense 204,928, dense_1 1,290 float32 weights = 0.9 MB in four
 * layer files), and the bytes of new git objects a child version adds when (a) retrained from
 * scratch and (b) its conv layers were frozen (same conv files, new dense files).
 *
 * Then, each in a fresh child process (bench/registry-child.ts):
 * - peak memory (max RSS) of registering and of checking out a model with one 200 MB weight file
 *   (env BENCH_BIG_MB, default 200), next to the process's RSS before the operation;
 * - in registries of 1,000 and 10,000 versions of one model (env BENCH_SCALE, default
 *   "1000,10000"; built with `git fast-import`, loose refs as the registry writes them, 1 stage
 *   event per 100 versions): open + first resolve of `cnn@latest`, then `cnn#production`, and one
 *   more `register`.
 *
 *   pnpm bench:registry            (env BENCH_RUNS, default 5)
 *
 * Imports the built dist. Registries are bare repositories in a temp dir. Timings are medians of
 * BENCH_RUNS runs, each into a fresh repository (register) or from the same one (checkout).
 * Target: (b) adds no more than the changed layers' bytes + 16 KiB.
 * Needs the `git` CLI (for `git fast-import`). The last line of output is one JSON object with the
 * figures.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openRegistry } from '@mlship/registry';
import { MODEL_A_LAYERS, writeModelDirForTesting } from '@mlship/registry/testing';

const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 200);
const SCALE = (process.env.BENCH_SCALE ?? '1000,10000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const CHILD = join(import.meta.dirname, 'registry-child.ts');

/** Runs bench/registry-child.ts in a fresh node process; resolves with its JSON line. */
function child(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`registry-child ${args[0]} exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

/** Runs a git command with `input` on stdin. */
function git(cwd: string, args: string[], input?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', args, { cwd, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`git ${args[0]} exited ${code}`)),
    );
    if (input) p.stdin!.end(input);
  });
}

/**
 * A bare registry with `n` versions of `cnn` (all of `modelDir`'s files, one version record each),
 * the GTO version tags, a `staging` assignment every 100 versions and `production` on the last,
 * written with `git fast-import` in the registry's layout.
 */
async function buildScaleRepo(repo: string, n: number, modelDir: string): Promise<void> {
  const chunks: Buffer[] = [];
  const put = (s: string | Buffer): void => {
    chunks.push(typeof s === 'string' ? Buffer.from(s) : s);
  };
  const data = (s: string | Buffer): void => {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    put(`data ${b.length}\n`);
    put(b);
    put('\n');
  };
  const names = (await readdir(modelDir)).sort();
  const meta = JSON.parse(await readFile(join(modelDir, 'mlship.json'), 'utf8')) as {
    files: Record<string, { sha256: string; bytes: number }>;
  };
  const { createHash } = await import('node:crypto');
  const metaBytes = await readFile(join(modelDir, 'mlship.json'));
  const files = {
    ...meta.files,
    'mlship.json': {
      sha256: createHash('sha256').update(metaBytes).digest('hex'),
      bytes: metaBytes.length,
    },
  };
  for (const [i, f] of names.entries()) {
    put(`blob\nmark :${i + 1}\n`);
    data(await readFile(join(modelDir, f)));
  }
  put('blob\nmark :100\n');
  data('artifacts:\n  cnn:\n    type: model\n    path: models/cnn\n');
  const t0 = 1_800_000_000;
  const person = (t: number): string => `mlship <mlship@localhost> ${t} +0000`;
  let counter = 0;
  for (let v = 1; v <= n; v++) {
    const tag = `cnn@v${v}.0.0`;
    const record = {
      format: 'mlship-registry-version/1',
      name: 'cnn',
      version: v,
      tag,
      created: new Date((t0 + v * 3) * 1000).toISOString(),
      message: '',
      path: 'models/cnn',
      metrics: { accuracy: 0.9 },
      params: {},
      datasets: {},
      parent: v > 1 ? `cnn@v${v - 1}.0.0` : null,
      strategy: null,
      tags: {},
      files,
    };
    const json = JSON.stringify(record, null, 2);
    const mark = 1000 + v;
    put(`commit refs/heads/mlship\nmark :${mark}\n`);
    put(`author ${person(t0 + v * 3)}\ncommitter ${person(t0 + v * 3)}\n`);
    data(`Register ${tag}\n\nMlship-Model: cnn\nMlship-Version: ${v}\n`);
    if (v > 1) put(`from :${mark - 1}\n`);
    else {
      for (const [i, f] of names.entries()) put(`M 100644 :${i + 1} models/cnn/${f}\n`);
      put('M 100644 :100 dvc.yaml\n');
    }
    put('M 100644 inline .mlship/cnn.json\n');
    data(`${json}\n`);
    put('\n');
    put(`tag ${tag}\nfrom :${mark}\ntagger ${person(t0 + v * 3)}\n`);
    data(`Registering artifact cnn version v${v}.0.0\n\n${json}\n`);
    const stage = v === n ? 'production' : v % 100 === 0 ? 'staging' : undefined;
    if (stage) {
      counter += 1;
      put(`tag cnn#${stage}#${counter}\nfrom :${mark}\ntagger ${person(t0 + v * 3 + 1)}\n`);
      data(`Assigning stage ${stage} to artifact cnn version v${v}.0.0\n`);
    }
  }
  await git(tmpdir(), ['init', '-q', '--bare', repo]);
  await git(repo, ['fast-import', '--quiet'], Buffer.concat(chunks));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return total;
}

const root = await mkdtemp(join(tmpdir(), 'mlship-bench-registry-'));
try {
  const base = join(root, 'base');
  const frozen = join(root, 'frozen');
  const scratch = join(root, 'scratch');
  await writeModelDirForTesting(base, { seed: 1, metrics: { accuracy: 0.97 } });
  await writeModelDirForTesting(frozen, {
    seed: 1,
    layerSeeds: { dense: 2, dense_1: 2 },
    strategy: 'freeze',
  });
  await writeModelDirForTesting(scratch, { seed: 3, strategy: 'scratch' });
  const weightBytes = Object.values(MODEL_A_LAYERS).reduce((a, b) => a + b, 0) * 4;
  console.log(
    `model A: ${weightBytes} bytes of weights in ${Object.keys(MODEL_A_LAYERS).length} layer files`,
  );

  const registerMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const reg = await openRegistry({ dir: join(root, `reg-${r}`), bare: true });
    const t0 = performance.now();
    await reg.register('cnn', base);
    registerMs.push(performance.now() - t0);
  }
  console.log(`register: ${registerMs.map((x) => x.toFixed(1)).join(', ')} ms`);

  const reg = await openRegistry({ dir: join(root, 'reg-0') });
  const checkoutMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    await reg.checkout('cnn@v1', join(root, `out-${r}`));
    checkoutMs.push(performance.now() - t0);
  }
  console.log(`checkout: ${checkoutMs.map((x) => x.toFixed(1)).join(', ')} ms`);

  // Storage: new object bytes added by each kind of child, each on top of the same v1.
  const objects = (name: string): string => join(root, name, 'objects');
  const a = await openRegistry({ dir: join(root, 'storage-a'), bare: true });
  await a.register('cnn', base);
  const a0 = await dirBytes(objects('storage-a'));
  await a.register('cnn', scratch, { parent: 'cnn@v1' });
  const scratchBytes = (await dirBytes(objects('storage-a'))) - a0;

  const b = await openRegistry({ dir: join(root, 'storage-b'), bare: true });
  await b.register('cnn', base);
  const b0 = await dirBytes(objects('storage-b'));
  await b.register('cnn', frozen, { parent: 'cnn@v1' });
  const frozenBytes = (await dirBytes(objects('storage-b'))) - b0;
  const changedLayerBytes = ((MODEL_A_LAYERS.dense ?? 0) + (MODEL_A_LAYERS.dense_1 ?? 0)) * 4;
  const budget = changedLayerBytes + 16 * 1024;
  console.log(`new objects, scratch child: ${scratchBytes} bytes`);
  console.log(
    `new objects, frozen-conv child: ${frozenBytes} bytes (changed layers ${changedLayerBytes} + 16 KiB = ${budget}: ${frozenBytes <= budget ? 'within target' : 'OVER TARGET'})`,
  );

  // Peak memory with one big weight file, each operation in its own process.
  const big = join(root, 'big');
  await writeModelDirForTesting(big, { layers: { dense: (BIG_MB * 1024 * 1024) / 4 } });
  const bigRegister = await child(['register', join(root, 'big-repo'), big]);
  console.log(
    `register, one ${BIG_MB} MB weight file: ${String(bigRegister.ms)} ms, peak RSS ${String(bigRegister.peakRssMiB)} MiB (before: ${String(bigRegister.baseRssMiB)} MiB)`,
  );
  await rm(big, { recursive: true, force: true });
  const bigCheckout = await child([
    'checkout',
    join(root, 'big-repo'),
    'cnn@v1',
    join(root, 'big-out'),
  ]);
  console.log(
    `checkout, one ${BIG_MB} MB weight file: ${String(bigCheckout.ms)} ms, peak RSS ${String(bigCheckout.peakRssMiB)} MiB (before: ${String(bigCheckout.baseRssMiB)} MiB)`,
  );
  await rm(join(root, 'big-repo'), { recursive: true, force: true });
  await rm(join(root, 'big-out'), { recursive: true, force: true });

  // Scale: many versions of one model.
  const scale: Record<string, unknown>[] = [];
  for (const n of SCALE) {
    const repo = join(root, `scale-${n}`);
    const t0 = performance.now();
    await buildScaleRepo(repo, n, base);
    const buildMs = performance.now() - t0;
    // The repository was written by git, not by the registry: the first process to read it
    // builds the registry's tag index (where the registry keeps one); every later one uses it.
    const cold = await child(['resolve', repo, 'cnn@latest']);
    const r = await child(['resolve', repo, 'cnn@latest', 'cnn#production']);
    const reg = await child(['register', repo, scratch]);
    const r2 = await child(['resolve', repo, 'cnn@latest']);
    const row = {
      versions: n,
      coldOpenMs: cold.openMs,
      coldResolveMs: (cold.resolveMs as number[])[0],
      openMs: r.openMs,
      firstResolveMs: (r.resolveMs as number[])[0],
      secondResolveMs: (r.resolveMs as number[])[1],
      registerMs: reg.ms,
      openAfterRegisterMs: r2.openMs,
      resolveAfterRegisterMs: (r2.resolveMs as number[])[0],
    };
    scale.push(row);
    console.log(
      `${n} versions (built in ${(buildMs / 1000).toFixed(1)} s): first process ever: open ${String(row.coldOpenMs)} ms + resolve ${String(row.coldResolveMs)} ms; a new process: open ${String(row.openMs)} ms, first resolve cnn@latest ${String(row.firstResolveMs)} ms, then cnn#production ${String(row.secondResolveMs)} ms; register ${String(row.registerMs)} ms; afterwards open ${String(row.openAfterRegisterMs)} ms + resolve ${String(row.resolveAfterRegisterMs)} ms`,
    );
    await rm(repo, { recursive: true, force: true });
  }

  console.log(
    JSON.stringify({
      bench: 'registry',
      runs: RUNS,
      modelWeightBytes: weightBytes,
      registerMsMedian: Number(median(registerMs).toFixed(1)),
      checkoutMsMedian: Number(median(checkoutMs).toFixed(1)),
      newObjectBytesScratchChild: scratchBytes,
      newObjectBytesFrozenChild: frozenBytes,
      changedLayerBytes,
      frozenTargetBytes: budget,
      frozenWithinTarget: frozenBytes <= budget,
      bigFileMB: BIG_MB,
      bigRegister,
      bigCheckout,
      scale,
    }),
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
