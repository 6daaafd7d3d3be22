/**
 * The mlship delivery pipeline, end to end, on built-in defaults (the README's main job):
 *
 *   1. train the base CNN on MNIST 0–9,999, evaluate, register cnn@v1, stage production
 *   2. serve cnn#production on 127.0.0.1 and send it real predictions
 *   3. new data (MNIST 10,000–19,999, shifted): production's accuracy on it, and a label-free
 *      drift score (PSI of prediction confidence)
 *   4. adapt by transfer learning; quality gate: beat production on the new holdout by a margin
 *   5. register cnn@v2 with lineage, move production; the server hot-swaps under continuing requests
 *   6. OCI image layout of the server + model, Dockerfile, Kubernetes manifests; summary table
 *
 *   pnpm --filter @mlship/example-delivery-pipeline start [-- --budget ci --out DIR ...]
 *
 * Everything it makes goes into one folder, printed at the start and the end. No network, no
 * services beyond the model server it starts itself.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initRuntime } from '@mlship/tf';
import { defaultOutParent, readConfig, USAGE, UsageError } from './config';
import type { PipelineConfig } from './config';
import { GateFailed, pct, since } from './run';
import type { Run } from './run';
import { trainBase } from './stage1-train-base';
import { startServing } from './stage2-serve';
import { measureDrift } from './stage3-drift';
import { adaptAndGate } from './stage4-adapt';
import { promote } from './stage5-promote';
import { buildImageStage } from './stage6-image';

const STAGES = [
  'train + register v1',
  'serve production',
  'new data: drift',
  'adapt + quality gate',
  'register v2 + hot swap',
  'image + manifests',
] as const;

function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

async function pipeline(cfg: PipelineConfig): Promise<number> {
  const started = performance.now();
  const out =
    cfg.out ||
    (await mkdir(defaultOutParent(), { recursive: true }),
    await mkdtemp(path.join(defaultOutParent(), 'delivery-')));
  const run: Run = {
    cfg,
    dirs: {
      out,
      registry: path.join(out, 'registry'),
      models: path.join(out, 'models'),
      image: path.join(out, 'image'),
      k8s: path.join(out, 'k8s'),
    },
    log: (line) => process.stderr.write(`${line}\n`),
  };
  await mkdir(out, { recursive: true });
  const runtime = await initRuntime();
  run.log(`mlship delivery pipeline -> ${out}`);
  run.log(`backend: ${runtime.backend} (${runtime.reason})`);
  const seconds: number[] = [];
  const stage = async <T>(i: number, work: () => Promise<T>): Promise<T> => {
    run.log(`\n[${i + 1}/6] ${STAGES[i]}`);
    const t0 = performance.now();
    const value = await work();
    seconds[i] = since(t0);
    return value;
  };

  const base = await stage(0, () => trainBase(run));
  const serving = await stage(1, () => startServing(run, base.test));
  let summary: Record<string, unknown> = {};
  try {
    const drift = await stage(2, () => measureDrift(run, base, serving.url));
    const candidate = await stage(3, () => adaptAndGate(run, base, drift));
    const promoted = await stage(4, () =>
      promote(run, base.registry, base.v1, candidate.dir, serving.url, drift.holdout),
    );
    await serving.server.stop();
    const image = await stage(5, () => buildImageStage(run, promoted.v2, candidate.dir));
    const wall = since(started);
    summary = {
      out,
      backend: runtime.backend,
      versions: { v1: base.v1, v2: promoted.v2 },
      accuracy: {
        v1Test: base.accuracy,
        v1NewHoldout: drift.productionAccuracy,
        v2NewHoldout: candidate.accuracy,
        servedSample: serving.correct / serving.sent,
      },
      drift: { confidencePsi: drift.confidencePsi, meanConfidence: drift.meanConfidence },
      gate: { margin: cfg.gate.margin, passed: true },
      hotSwap: { ...promoted.load, swapSeconds: promoted.swapSeconds },
      image: {
        digest: image.digest,
        layout: image.layout,
        pushed: image.pushed ?? null,
        dockerfile: image.dockerfile,
        manifests: image.manifests,
      },
      stages: STAGES.map((name, i) => ({ name, seconds: seconds[i] })),
      seconds: wall,
    };
    await writeFile(path.join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    if (cfg.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      process.stdout.write(
        `\n${table([
          ['stage', 'seconds', 'result'],
          [
            STAGES[0],
            seconds[0]!.toFixed(1),
            `${base.v1.tag}: ${pct(base.accuracy)} on MNIST test; stage production`,
          ],
          [
            STAGES[1],
            seconds[1]!.toFixed(1),
            `${serving.url}: ${serving.correct}/${serving.sent} served predictions correct`,
          ],
          [
            STAGES[2],
            seconds[2]!.toFixed(1),
            `v1 on new holdout ${pct(drift.productionAccuracy)}; confidence PSI ${drift.confidencePsi.toFixed(3)}`,
          ],
          [
            STAGES[3],
            seconds[3]!.toFixed(1),
            `${cfg.transfer.strategy}: ${pct(candidate.accuracy)} on new holdout (gate +${cfg.gate.margin}: passed)`,
          ],
          [
            STAGES[4],
            seconds[4]!.toFixed(1),
            `${promoted.v2.tag} <- ${base.v1.tag}; ${promoted.load.requests} requests, ${promoted.load.failed} failed`,
          ],
          [
            STAGES[5],
            seconds[5]!.toFixed(1),
            `${image.digest.slice(0, 19)}…${image.pushed ? ` pushed ${image.pushed}` : ''}`,
          ],
          ['total', wall.toFixed(1), `everything in ${out}`],
        ])}\n`,
      );
    }
    run.log(`\ndone in ${wall.toFixed(1)} s; everything is in ${out}`);
    return promoted.load.failed === 0 ? 0 : 1;
  } finally {
    if (serving.server.accepting) await serving.server.stop();
  }
}

async function main(): Promise<number> {
  let cfg: PipelineConfig | 'help';
  try {
    cfg = readConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}\n`);
    return 2;
  }
  if (cfg === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await pipeline(cfg);
  } catch (e) {
    if (e instanceof GateFailed) {
      process.stderr.write(`\n${e.message}\n`);
      return 3;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    const code = (e as { code?: unknown }).code;
    process.stderr.write(
      `\npipeline failed: ${typeof code === 'string' ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`,
    );
    return 1;
  }
}

void main().then((code) => process.stdout.write('', () => process.exit(code)));
