import type { Strategy, StrategyKind } from '../strategy';
import { strategyLabel } from '../strategy';
import type { TransferEpoch } from '../transfer';
import type {
  BaseReference,
  Finding,
  MeanSd,
  RunResult,
  StrategySummary,
  TimeToAccuracy,
} from './types';

/**
 * Mean and sample standard deviation (n - 1; 0 for a single value).
 *
 * @param values - the values (at least one)
 * @returns `{ mean, sd, n }`
 * @throws never (an empty list gives NaN)
 * @example
 * ```ts
 * meanSd([0.97, 0.98, 0.99]); // { mean: 0.98, sd: 0.01, n: 3 }
 * ```
 */
export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd =
    n < 2 ? 0 : Math.sqrt(values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (n - 1));
  return { mean, sd, n };
}

/**
 * Time-to-accuracy of one run: for each threshold, the first epoch whose validation accuracy
 * reaches it and the wall seconds at its end.
 *
 * @internal
 */
export function timeToAccuracy(
  history: readonly TransferEpoch[],
  thresholds: readonly number[],
): TimeToAccuracy[] {
  return thresholds.map((threshold) => {
    const hit = history.find((h) => (h.valAccuracy ?? -1) >= threshold);
    return {
      threshold,
      seconds: hit === undefined ? null : hit.elapsed,
      epoch: hit === undefined ? null : hit.epoch,
    };
  });
}

/**
 * Aggregates runs per strategy: mean ± sd over seeds of every figure, per-epoch validation curves,
 * time-to-accuracy.
 *
 * @internal
 */
export function summarize(
  strategies: readonly Strategy[],
  runs: readonly RunResult[],
  thresholds: readonly number[],
): StrategySummary[] {
  return strategies.map((s) => {
    const label = strategyLabel(s);
    const mine = runs.filter((r) => r.strategy === label);
    const maxEpochs = Math.max(0, ...mine.map((r) => r.history.length));
    const epochs: StrategySummary['epochs'] = [];
    for (let e = 1; e <= maxEpochs; e++) {
      const at = mine
        .map((r) => r.history.find((h) => h.epoch === e))
        .filter((h): h is TransferEpoch => h !== undefined && h.valAccuracy !== undefined);
      if (at.length === 0) continue;
      epochs.push({
        epoch: e,
        valAccuracy: meanSd(at.map((h) => h.valAccuracy!)),
        valLoss: meanSd(at.map((h) => h.valLoss!)),
        elapsed: meanSd(at.map((h) => h.elapsed)),
      });
    }
    return {
      strategy: label,
      kind: s.kind,
      runs: mine.length,
      testAccuracy: meanSd(mine.map((r) => r.test.accuracy)),
      testLoss: meanSd(mine.map((r) => r.test.loss)),
      seconds: meanSd(mine.map((r) => r.seconds)),
      epochSeconds: meanSd(mine.map((r) => r.epochSeconds)),
      imagesPerSec: meanSd(mine.map((r) => r.imagesPerSec)),
      trainableParams: mine[0]?.parameters.trainable ?? 0,
      frozenParams: mine[0]?.parameters.frozen ?? 0,
      epochs,
      timeToAccuracy: thresholds.map((threshold) => {
        const times = mine
          .map((r) => r.timeToAccuracy.find((t) => t.threshold === threshold)?.seconds ?? null)
          .filter((t): t is number => t !== null);
        return {
          threshold,
          reached: times.length,
          seconds: times.length === 0 ? null : meanSd(times),
        };
      }),
    };
  });
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const pm = (m: MeanSd): string => `${(m.mean * 100).toFixed(2)} ± ${(m.sd * 100).toFixed(2)} %`;

function firstOf(
  summary: readonly StrategySummary[],
  kinds: StrategyKind[],
): StrategySummary | undefined {
  for (const k of kinds) {
    const found = summary.find((s) => s.kind === k);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Checks the thesis's three findings against an experiment's summary: transfer adapts the model
 * without retraining from scratch; freezing is enough to reach the old level; loading the weights
 * (fine-tuning) does better than the original. Means over seeds are compared as they are.
 *
 * @internal
 */
export function checkFindings(
  summary: readonly StrategySummary[],
  reference: BaseReference,
): Finding[] {
  const scratch = summary.find((s) => s.kind === 'scratch');
  const transfers = summary.filter((s) => s.kind !== 'scratch');
  const best = [...transfers].sort((a, b) => b.testAccuracy.mean - a.testAccuracy.mean)[0];
  const findings: Finding[] = [];

  const adapts: Finding = {
    id: 'adapts',
    claim: 'Transfer learning adapts the model to the new data without retraining from scratch.',
    held: null,
    evidence: 'needs a scratch run and at least one transfer strategy',
  };
  if (scratch !== undefined && best !== undefined) {
    adapts.held =
      best.testAccuracy.mean > reference.targetAccuracy &&
      best.testAccuracy.mean >= scratch.testAccuracy.mean;
    adapts.evidence =
      `the base model scores ${pct(reference.targetAccuracy)} on the new test set untouched; ` +
      `the best transfer strategy (${best.strategy}) reaches ${pm(best.testAccuracy)} ` +
      `against ${pm(scratch.testAccuracy)} for training from scratch with the same budget`;
  }
  findings.push(adapts);

  const freeze = firstOf(summary, ['freeze', 'featureCache']);
  const old = reference.sourceAccuracy;
  const freezeFinding: Finding = {
    id: 'freezeReachesOldLevel',
    claim: 'Freezing the convolutional layers is enough to reach the old level of performance.',
    held: null,
    evidence:
      old === null
        ? "the base model's accuracy on its own test set (the old level) is unknown"
        : 'needs a freeze (or featureCache) run',
  };
  if (freeze !== undefined && old !== null) {
    freezeFinding.held = freeze.testAccuracy.mean >= old;
    freezeFinding.evidence = `${freeze.strategy} reaches ${pm(freeze.testAccuracy)} on the new test set; the base model scored ${pct(old)} on its own test set (a gap of ${((freeze.testAccuracy.mean - old) * 100).toFixed(2)} points)`;
  }
  findings.push(freezeFinding);

  const fine = summary.find((s) => s.kind === 'fineTune');
  const fineFinding: Finding = {
    id: 'fineTuneBeatsOriginal',
    claim:
      'Loading the trained weights and training everything reaches better performance than the original model.',
    held: null,
    evidence:
      old === null
        ? "the base model's accuracy on its own test set (the original's performance) is unknown"
        : 'needs a fineTune run',
  };
  if (fine !== undefined && old !== null) {
    fineFinding.held = fine.testAccuracy.mean > old;
    fineFinding.evidence =
      `fineTune reaches ${pm(fine.testAccuracy)} on the new test set; the original scored ${pct(old)} on its own test set` +
      (scratch === undefined ? '' : ` (scratch: ${pm(scratch.testAccuracy)})`);
  }
  findings.push(fineFinding);
  return findings;
}
