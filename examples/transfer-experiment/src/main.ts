/**
 * The thesis's transfer-learning experiment, reproduced and extended: train a base CNN (or reuse
 * one), then adapt it to new data with several strategies under the same budget and several seeds,
 * and write a report (experiment.json, report.md, report.html, charts/*.svg).
 *
 *   pnpm --filter @mlship/example-transfer-experiment start [-- --preset default|fashion|sweep|<file.json>
 *                                                            --out DIR --backend wasm --fresh]
 *
 * Runs already finished in DIR are skipped: interrupt it (Ctrl-C) and start it again to resume.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BackendRequest } from '@mlship/tf';
import { initRuntime } from '@mlship/tf';
import type { PresetEvent } from '@mlship/transfer';
import {
  formatMarkdown,
  formatSweepMarkdown,
  isTransferError,
  runPreset,
  validatePreset,
} from '@mlship/transfer';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    preset: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    fresh: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`usage: pnpm --filter @mlship/example-transfer-experiment start [-- options]
  --preset P   default | fashion | sweep (presets/<P>.json), or a preset JSON file (env PRESET, default default)
  --out DIR    results directory (env OUT_DIR, default <os tmpdir>/mlship/transfer-experiment/<preset name>);
               finished runs there are skipped, so an interrupted run resumes
  --backend B  auto | wasm | tensorflow (env MLSHIP_BACKEND, default auto)
  --fresh      delete DIR first (start over)`);
  process.exit(0);
}

const presetArg = values.preset ?? process.env['PRESET'] ?? 'default';
const presetFile = presetArg.endsWith('.json')
  ? path.resolve(presetArg)
  : path.join(here, '..', 'presets', `${presetArg}.json`);

const seconds = (s: number): string =>
  s >= 120 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)} %`;

function show(e: PresetEvent): void {
  switch (e.type) {
    case 'data':
      console.log(`data: ${e.role}: ${e.count} images`);
      return;
    case 'base-reused':
      console.log(`base: reusing ${e.dir} (accuracy on its own test set ${pct(e.sourceAccuracy)})`);
      return;
    case 'base-start':
      console.log(`base: training on ${e.count} images for ${e.epochs} epochs`);
      return;
    case 'base-epoch':
      console.log(
        `  base epoch ${e.stats.epoch}/${e.epochs}: loss ${e.stats.loss.toFixed(4)} accuracy ${e.stats.accuracy.toFixed(4)} ${e.stats.seconds.toFixed(1)} s`,
      );
      return;
    case 'base-end':
      console.log(
        `base: saved ${e.dir} in ${seconds(e.seconds)}, accuracy on its own test set ${pct(e.sourceAccuracy)}`,
      );
      return;
    case 'experiment': {
      const x = e.event;
      if (x.type === 'start') {
        console.log(
          `${e.experiment}: ${x.runs} runs (${x.done} already done); the base model scores ${pct(x.reference.targetAccuracy)} on the new test set untouched`,
        );
      } else if (x.type === 'run-start') {
        console.log(`[${x.index}/${x.total}] ${x.strategy} seed ${x.seed}`);
      } else if (x.type === 'run-skipped') {
        console.log(
          `[${x.index}/${x.total}] ${x.strategy} seed ${x.seed}: done before (test ${pct(x.result.test.accuracy)})`,
        );
      } else if (x.type === 'run-stale') {
        console.log(
          `[${x.index}/${x.total}] ${x.strategy} seed ${x.seed}: ${x.file} was made with other settings; running again`,
        );
      } else if (x.type === 'epoch') {
        const h = x.epoch;
        console.log(
          `  epoch ${h.epoch}${h.phase === 2 ? ' (phase 2)' : ''}: loss ${h.loss.toFixed(4)} val accuracy ${pct(h.valAccuracy)} ` +
            `${h.seconds.toFixed(1)} s train, ${h.elapsed.toFixed(1)} s since start`,
        );
      } else if (x.type === 'run-end') {
        const r = x.result;
        console.log(
          `  done: test ${pct(r.test.accuracy)}, ${r.parameters.trainable} trainable / ${r.parameters.frozen} frozen parameters, ` +
            `${seconds(r.seconds)} wall, ${r.imagesPerSec.toFixed(0)} images/s`,
        );
      }
      return;
    }
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const preset = validatePreset(JSON.parse(await fs.readFile(presetFile, 'utf8')));
  const out = path.resolve(
    values.out ??
      process.env['OUT_DIR'] ??
      path.join(os.tmpdir(), 'mlship', 'transfer-experiment', preset.name),
  );
  if (values.fresh) await fs.rm(out, { recursive: true, force: true });
  const backend = (values.backend ?? process.env['MLSHIP_BACKEND']) as BackendRequest | undefined;
  const runtime = await initRuntime(backend === undefined ? {} : { backend });
  console.log(`preset: ${presetFile}`);
  console.log(
    `backend: ${runtime.backend} (${runtime.reason}); ${os.availableParallelism()} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`results: ${out}`);

  const controller = new AbortController();
  process.once('SIGINT', () => {
    console.log('\ninterrupted: finished runs are kept; start again to resume');
    controller.abort();
  });
  const result = await runPreset(preset, {
    dir: out,
    baseDir: path.dirname(presetFile),
    onEvent: show,
    signal: controller.signal,
  });
  console.log('');
  for (const e of result.experiments) console.log(formatMarkdown(e));
  if (result.sweep !== null) console.log(formatSweepMarkdown(result.sweep));
  for (const r of result.reports) console.log(`report: ${r.html}`);
  if (result.sweepReport !== null) console.log(`sweep report: ${result.sweepReport.html}`);
  // CPU time of this process (every thread, workers included): on a busy machine it says what the
  // run cost when wall time says how long it waited.
  const cpu = process.cpuUsage();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `wall time: ${seconds((performance.now() - started) / 1000)}, CPU time ${seconds((cpu.user + cpu.system) / 1e6)} (load average now ${load})`,
  );
}

main().catch((error: unknown) => {
  if (isTransferError(error) && error.code === 'ABORTED') {
    console.error('stopped; run the same command again to resume');
    process.exit(130);
  }
  console.error(isTransferError(error) ? `${error.code}: ${error.message}` : error);
  process.exit(1);
});
