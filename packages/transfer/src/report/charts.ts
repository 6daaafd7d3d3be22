import { describeError } from '@mlship/core';
import { TransferError } from '../errors';
import type { ExperimentResult } from '../experiment/types';

/** One rendered chart. */
export interface Chart {
  /** File stem: `accuracy-by-epoch`, `accuracy-by-seconds`, `test-accuracy` (or a sweep chart). */
  name: string;
  /** Title shown above it. */
  title: string;
  /** The vega-lite spec it was rendered from (JSON). */
  spec: Record<string, unknown>;
  /** The SVG document. */
  svg: string;
}

const WIDTH = 560;
const HEIGHT = 300;

function colour(labels: readonly string[]): Record<string, unknown> {
  return {
    field: 'strategy',
    type: 'nominal',
    title: 'strategy',
    scale: { domain: [...labels], scheme: 'tableau10' },
    sort: [...labels],
  };
}

/**
 * A line per strategy (mean over seeds) with a band of ± one standard deviation.
 *
 * @internal
 */
export function curveSpec(
  rows: readonly { strategy: string; x: number; mean: number; lo: number; hi: number }[],
  labels: readonly string[],
  xTitle: string,
  yTitle: string,
  title: string,
): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: xTitle,
        ...(xTitle === 'epoch' ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
      },
      color: {
        ...colour(labels),
        legend: { symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 },
      },
    },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: {
          y: { field: 'lo', type: 'quantitative', title: yTitle, scale: { zero: false } },
          y2: { field: 'hi' },
        },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: false } },
        },
      },
    ],
  };
}

/**
 * The vega-lite specs of an experiment's charts: validation accuracy against epoch and against wall
 * seconds (a line per strategy, a band for ± one sd over seeds), and final test accuracy per
 * strategy (a bar with ± one sd error bars).
 *
 * @param result - an experiment result
 * @returns name, title and vega-lite spec of each chart
 * @throws never
 * @example
 * ```ts
 * const specs = chartSpecs(result); // render them anywhere vega-lite runs
 * ```
 */
export function chartSpecs(
  result: ExperimentResult,
): { name: string; title: string; spec: Record<string, unknown> }[] {
  const labels = result.summary.map((s) => s.strategy);
  const byEpoch = result.summary.flatMap((s) =>
    s.epochs.map((e) => ({
      strategy: s.strategy,
      x: e.epoch,
      mean: e.valAccuracy.mean,
      lo: e.valAccuracy.mean - e.valAccuracy.sd,
      hi: e.valAccuracy.mean + e.valAccuracy.sd,
    })),
  );
  const bySeconds = result.summary.flatMap((s) =>
    s.epochs.map((e) => ({
      strategy: s.strategy,
      x: e.elapsed.mean,
      mean: e.valAccuracy.mean,
      lo: e.valAccuracy.mean - e.valAccuracy.sd,
      hi: e.valAccuracy.mean + e.valAccuracy.sd,
    })),
  );
  const bars = result.summary.map((s) => ({
    strategy: s.strategy,
    mean: s.testAccuracy.mean,
    lo: s.testAccuracy.mean - s.testAccuracy.sd,
    hi: s.testAccuracy.mean + s.testAccuracy.sd,
  }));
  const lowest = Math.min(...bars.map((b) => b.lo), result.reference.targetAccuracy);
  const floor = Math.max(0, Math.floor(lowest * 20) / 20 - 0.05);
  const testTitle = 'Final test accuracy (mean ± sd over seeds)';
  // Dashed reference lines: the untouched base on the new test set, and on its own ("the old level").
  const references = [
    { value: result.reference.targetAccuracy, text: 'base model, untouched' },
    ...(result.reference.sourceAccuracy === null
      ? []
      : [
          {
            value: result.reference.sourceAccuracy,
            text: 'base on its own test set (the old level)',
          },
        ]),
  ];
  const x = {
    field: 'strategy',
    type: 'nominal',
    sort: labels,
    title: null,
    axis: { labelAngle: 0 },
  };
  return [
    {
      name: 'accuracy-by-epoch',
      title: 'Validation accuracy by epoch',
      spec: curveSpec(
        byEpoch,
        labels,
        'epoch',
        'validation accuracy',
        'Validation accuracy by epoch',
      ),
    },
    {
      name: 'accuracy-by-seconds',
      title: 'Validation accuracy by wall time',
      spec: curveSpec(
        bySeconds,
        labels,
        'wall seconds from the start of the run (mean over seeds)',
        'validation accuracy',
        'Validation accuracy by wall time',
      ),
    },
    {
      name: 'test-accuracy',
      title: testTitle,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: testTitle,
        width: WIDTH,
        height: HEIGHT,
        data: { values: bars },
        layer: [
          {
            // The axis starts near the lowest value, not at 0: clip the bars to the plot.
            mark: { type: 'bar', clip: true },
            encoding: {
              x,
              y: {
                field: 'mean',
                type: 'quantitative',
                title: 'test accuracy',
                scale: { domain: [floor, 1], zero: false },
              },
              color: { ...colour(labels), legend: null },
            },
          },
          {
            mark: { type: 'text', dy: -12, color: '#222' },
            encoding: {
              x,
              y: { field: 'hi', type: 'quantitative' },
              text: { field: 'mean', type: 'quantitative', format: '.2%' },
            },
          },
          {
            mark: { type: 'rule', strokeWidth: 2, color: '#333' },
            encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
          },
          ...references.flatMap(({ value, text }) => [
            {
              mark: { type: 'rule', strokeDash: [4, 4], color: '#777' },
              encoding: { y: { datum: value, type: 'quantitative' } },
            },
            {
              mark: { type: 'text', align: 'left', dx: 4, dy: -7, color: '#555' },
              encoding: {
                x: { value: 0 },
                y: { datum: value, type: 'quantitative' },
                text: { value: text },
              },
            },
          ]),
        ],
      },
    },
  ];
}

/**
 * Renders a vega-lite spec to an SVG document in Node (vega's headless renderer: no canvas, no
 * browser; text widths are estimated).
 *
 * @param spec - a vega-lite spec
 * @returns the SVG text
 * @throws {@link TransferError} `REPORT_FAILED` when vega-lite or vega rejects the spec
 * @example
 * ```ts
 * const svg = await renderSvg({ mark: 'bar', data: { values: [{ a: 'x', b: 1 }] },
 *   encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } });
 * ```
 */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  try {
    // vega is ESM with top-level await: import() works from both builds, require() would not.
    const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
    const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]);
    const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  } catch (e) {
    throw new TransferError('REPORT_FAILED', `rendering a chart failed: ${describeError(e)}`, {
      cause: e,
    });
  }
}

/**
 * Renders an experiment's charts (see {@link chartSpecs}) to SVG.
 *
 * @param result - an experiment result
 * @returns the charts, SVG included
 * @throws {@link TransferError} `REPORT_FAILED` when rendering fails
 * @example
 * ```ts
 * for (const chart of await renderCharts(result)) await writeFile(`${chart.name}.svg`, chart.svg);
 * ```
 */
export async function renderCharts(result: ExperimentResult): Promise<Chart[]> {
  const out: Chart[] = [];
  for (const c of chartSpecs(result)) out.push({ ...c, svg: await renderSvg(c.spec) });
  return out;
}
