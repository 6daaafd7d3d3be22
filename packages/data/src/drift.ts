import { DataError } from './errors';

/** Options of {@link populationStabilityIndex}. */
export interface PsiOptions {
  /** Number of bins, cut at the reference's quantiles (default 10, deciles). */
  bins?: number;
  /** Floor of a bin's share, so an empty bin gives a large but finite term (default 1e-4). */
  epsilon?: number;
}

/** One bin of a {@link PsiResult}: its value range and the share of each sample in it. */
export interface PsiBin {
  /** Lower edge (inclusive; `-Infinity` for the first bin). */
  lower: number;
  /** Upper edge (exclusive; `Infinity` for the last bin). */
  upper: number;
  /** Share of the reference sample in this bin. */
  reference: number;
  /** Share of the current sample in this bin. */
  current: number;
}

/** What {@link populationStabilityIndex} returns. */
export interface PsiResult {
  /** Σ (current − reference) · ln(current / reference) over the bins. */
  psi: number;
  /** The bins, lowest first. */
  bins: PsiBin[];
}

function checkSample(name: string, values: ArrayLike<number>): void {
  if (values.length === 0) {
    throw new DataError('INVALID_OPTION', `populationStabilityIndex: ${name} is empty`, {
      data: { path: name },
    });
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new DataError(
        'INVALID_OPTION',
        `populationStabilityIndex: ${name}[${i}] is ${String(values[i])}, expected a finite number`,
        { data: { path: `${name}[${i}]`, actual: values[i] } },
      );
    }
  }
}

/**
 * The population stability index (PSI) of a current sample against a reference sample: a
 * label-free drift score. Bins are cut at the reference's quantiles (equal-frequency; repeated
 * cut points merged), so each bin holds about 1/bins of the reference; PSI adds up how far the
 * current shares moved from them. A common reading: below 0.1 stable, 0.1–0.25 a moderate shift,
 * above 0.25 a major shift. Applied to a model's top-class probability on incoming images
 * ("prediction confidence"), it is what a team without fresh labels can watch.
 *
 * @param reference - values seen when the model was validated (e.g. confidences on its holdout)
 * @param current - values seen now
 * @param options - `bins` (default 10), `epsilon` (default 1e-4)
 * @returns the index and the bins
 * @throws DataError `INVALID_OPTION` for an empty sample, a non-finite value, or bad options
 * @example
 * ```ts
 * const { psi } = populationStabilityIndex([0.99, 0.97, 0.98, 0.6], [0.7, 0.5, 0.99, 0.4]);
 * if (psi > 0.25) console.log('major shift in prediction confidence');
 * ```
 */
export function populationStabilityIndex(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  options: PsiOptions = {},
): PsiResult {
  const binCount = options.bins ?? 10;
  const epsilon = options.epsilon ?? 1e-4;
  if (!Number.isInteger(binCount) || binCount < 2) {
    throw new DataError(
      'INVALID_OPTION',
      `populationStabilityIndex: bins must be an integer >= 2, got ${String(binCount)}`,
      { data: { path: 'bins', actual: binCount } },
    );
  }
  if (!(epsilon > 0 && epsilon < 1)) {
    throw new DataError(
      'INVALID_OPTION',
      `populationStabilityIndex: epsilon must be in (0, 1), got ${String(epsilon)}`,
      { data: { path: 'epsilon', actual: epsilon } },
    );
  }
  checkSample('reference', reference);
  checkSample('current', current);
  const sorted = Float64Array.from(reference).sort();
  const cuts: number[] = [];
  for (let b = 1; b < binCount; b++) {
    const cut = sorted[Math.floor((b * sorted.length) / binCount)]!;
    if (cut > (cuts[cuts.length - 1] ?? -Infinity) && cut > sorted[0]!) cuts.push(cut);
  }
  const edges = [-Infinity, ...cuts, Infinity];
  const share = (values: ArrayLike<number>): number[] => {
    const counts = new Array<number>(edges.length - 1).fill(0);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      // The bin whose [lower, upper) holds v: the number of cuts <= v.
      let lo = 0;
      let hi = cuts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cuts[mid]! <= v) lo = mid + 1;
        else hi = mid;
      }
      counts[lo]!++;
    }
    return counts.map((c) => c / values.length);
  };
  const ref = share(reference);
  const cur = share(current);
  let psi = 0;
  const bins: PsiBin[] = [];
  for (let b = 0; b < ref.length; b++) {
    const r = Math.max(ref[b]!, epsilon);
    const c = Math.max(cur[b]!, epsilon);
    psi += (c - r) * Math.log(c / r);
    bins.push({ lower: edges[b]!, upper: edges[b + 1]!, reference: ref[b]!, current: cur[b]! });
  }
  return { psi, bins };
}
