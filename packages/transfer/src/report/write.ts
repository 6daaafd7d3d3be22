import path from 'node:path';
import { createFsAdapter, describeError } from '@mlship/core';
import { TransferError } from '../errors';
import type { ExperimentResult } from '../experiment/types';
import { renderCharts } from './charts';
import type { Chart } from './charts';
import { formatHtml } from './html';
import { formatMarkdown } from './markdown';

/** The files {@link writeReport} wrote (absolute paths). */
export interface WrittenReport {
  /** `experiment.json`: the whole result. */
  json: string;
  /** `report.md`: the table and findings. */
  markdown: string;
  /** `report.html`: one self-contained page. */
  html: string;
  /** `charts/<name>.svg`, one per chart. */
  charts: string[];
}

/**
 * Writes an experiment's report into a directory: `experiment.json`, `report.md`, `report.html`
 * (self-contained: table, findings, inline charts, settings) and `charts/<name>.svg` (validation
 * accuracy by epoch and by wall time, final test accuracy), each file atomically.
 *
 * @param result - an experiment result
 * @param dir - the directory (created if needed)
 * @returns the paths written
 * @throws {@link TransferError} `REPORT_FAILED` when a chart cannot be rendered, `WRITE_FAILED` when a file cannot be written
 * @example
 * ```ts
 * const files = await writeReport(result, './results/shifted');
 * console.log(`open ${files.html}`);
 * ```
 */
export async function writeReport(result: ExperimentResult, dir: string): Promise<WrittenReport> {
  const root = path.resolve(dir);
  const charts: Chart[] = await renderCharts(result);
  const files: [string, string][] = [
    [path.join(root, 'experiment.json'), `${JSON.stringify(result, null, 2)}\n`],
    [path.join(root, 'report.md'), formatMarkdown(result)],
    [path.join(root, 'report.html'), formatHtml(result, charts)],
    ...charts.map((c): [string, string] => [path.join(root, 'charts', `${c.name}.svg`), c.svg]),
  ];
  await writeTextFiles(files);
  return {
    json: files[0]![0],
    markdown: files[1]![0],
    html: files[2]![0],
    charts: files.slice(3).map(([f]) => f),
  };
}

/**
 * Writes each text file atomically (its directory created as needed), in order.
 *
 * @internal
 * @throws {@link TransferError} `WRITE_FAILED` naming the file that could not be written
 */
export async function writeTextFiles(files: readonly (readonly [string, string])[]): Promise<void> {
  const io = createFsAdapter();
  for (const [file, text] of files) {
    try {
      await io.writeAtomic(file, text);
    } catch (e) {
      throw new TransferError('WRITE_FAILED', `writing ${file} failed: ${describeError(e)}`, {
        cause: e,
        data: { path: file },
      });
    }
  }
}
