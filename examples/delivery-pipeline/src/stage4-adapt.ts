import path from 'node:path';
import type { ImageDataset } from '@mlship/data';
import { transfer } from '@mlship/transfer';
import type { ResolvedVersion } from '@mlship/registry';
import { GateFailed, pct } from './run';
import type { Run } from './run';

export interface AdaptResult {
  dir: string;
  accuracy: number;
  seconds: number;
  trainable: number;
}

/**
 * Stage 4: adapt the production model to the new data with the configured transfer strategy,
 * evaluate the candidate on the new holdout, and apply the quality gate: the candidate must beat
 * production there by `gate.margin`, or the pipeline stops (exit code 3).
 */
export async function adaptAndGate(
  run: Run,
  base: { dir: string; v1: ResolvedVersion },
  drift: { newTrain: ImageDataset; holdout: ImageDataset; productionAccuracy: number },
): Promise<AdaptResult> {
  const { cfg, log } = run;
  const dir = path.join(run.dirs.models, 'cnn-v2');
  const result = await transfer(
    base.dir,
    { kind: cfg.transfer.strategy },
    { train: drift.newTrain, test: drift.holdout },
    {
      budget: { epochs: cfg.transfer.epochs },
      seed: cfg.seed,
      learningRate: cfg.transfer.learningRate,
      workers: cfg.workers,
      outDir: dir,
      name: 'cnn',
      parent: { name: 'cnn', version: base.v1.version, ref: base.v1.tag },
      onEpochEnd: (e) =>
        log(
          `  ${cfg.transfer.strategy} epoch ${e.epoch}/${cfg.transfer.epochs}: loss ${e.loss.toFixed(4)}, accuracy ${pct(e.accuracy)}`,
        ),
    },
  );
  result.model.dispose();
  const accuracy = result.test!.accuracy;
  const needed = drift.productionAccuracy + cfg.gate.margin;
  log(
    `  candidate (${cfg.transfer.strategy}, ${result.parameters.trainable} trainable parameters): ${pct(accuracy)} on the new holdout ` +
      `vs production ${pct(drift.productionAccuracy)}`,
  );
  if (!(accuracy >= needed))
    throw new GateFailed(
      `quality gate: the candidate's ${pct(accuracy)} on the new holdout does not beat production's ` +
        `${pct(drift.productionAccuracy)} by the required margin ${cfg.gate.margin} (needs ${pct(needed)}); ` +
        `production stays on ${base.v1.tag}. The candidate is kept at ${dir}.`,
    );
  log(
    `  quality gate passed: +${((accuracy - drift.productionAccuracy) * 100).toFixed(2)} points (margin ${cfg.gate.margin})`,
  );
  return { dir, accuracy, seconds: result.seconds, trainable: result.parameters.trainable };
}
