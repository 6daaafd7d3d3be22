import { applyShift, fingerprint, populationStabilityIndex, slice } from '@mlship/data';
import type { ImageDataset } from '@mlship/data';
import { evaluate, loadModelDir } from '@mlship/model';
import { servedConfidences } from './load';
import { pct } from './run';
import type { Run } from './run';

export interface DriftResult {
  newTrain: ImageDataset;
  holdout: ImageDataset;
  /** Production's accuracy on the new data's holdout (needs labels). */
  productionAccuracy: number;
  /** PSI of the served model's top-class probability: new holdout against the MNIST test images. */
  confidencePsi: number;
  meanConfidence: { reference: number; current: number };
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Stage 3: new data arrives — MNIST training images 10,000–19,999 through a domain shift. The
 * production model's accuracy on its holdout is the drift a team with labels sees; the population
 * stability index of the served model's prediction confidence (new images against the test
 * images it was validated on) is the drift a team without fresh labels can watch.
 */
export async function measureDrift(
  run: Run,
  base: { dir: string; mnistTrain: ImageDataset; test: ImageDataset },
  url: string,
): Promise<DriftResult> {
  const { cfg, log } = run;
  const arrived = applyShift(
    slice(base.mnistTrain, cfg.next.start, cfg.next.end),
    cfg.next.shift,
    cfg.seed,
  );
  const n = arrived.shape[0];
  const newTrain = slice(arrived, 0, n - cfg.next.holdout);
  const holdout = slice(arrived, n - cfg.next.holdout, n);
  log(
    `  new data: MNIST training images ${cfg.next.start}–${cfg.next.end - 1} + ${cfg.next.shift.kind} shift ` +
      `(${fingerprint(arrived).slice(0, 19)}…): ${newTrain.shape[0]} to train on, ${holdout.shape[0]} held out`,
  );

  const { model } = await loadModelDir(base.dir);
  const productionAccuracy = (await evaluate(model, holdout)).accuracy;
  model.dispose();

  const reference = await servedConfidences(url, base.test);
  const current = await servedConfidences(url, holdout);
  const { psi } = populationStabilityIndex(reference.confidences, current.confidences);
  log(`  production (v${current.version}) accuracy on the new holdout: ${pct(productionAccuracy)}`);
  log(
    `  label-free drift: PSI of prediction confidence ${psi.toFixed(3)} ` +
      `(mean confidence ${mean(reference.confidences).toFixed(3)} -> ${mean(current.confidences).toFixed(3)}; > 0.25 is a major shift)`,
  );
  return {
    newTrain,
    holdout,
    productionAccuracy,
    confidencePsi: psi,
    meanConfidence: { reference: mean(reference.confidences), current: mean(current.confidences) },
  };
}
