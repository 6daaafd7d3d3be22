import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExperimentPreset } from '@mlship/transfer';
import { get } from '../command';
import type { CommandDef } from '../command';
import { CliError } from '../errors';
import type { Progress } from '../output';
import { renderTable } from '../output';

const pm = (m: { mean: number; sd: number }, scale = 100, digits = 2): string =>
  `${(m.mean * scale).toFixed(digits)} ± ${(m.sd * scale).toFixed(digits)}`;

/** `mlship experiment`. */
export const experimentCommand: CommandDef = {
  path: ['experiment'],
  args: ['<preset>'],
  summary:
    'compare transfer strategies (strategies x seeds, equal budget) and write the report (JSON, markdown, SVG, HTML)',
  details:
    '<preset> is an @mlship/transfer experiment preset (JSON): base, target data, strategies, seeds, budget.\nRerun with the same --out to resume: finished runs are kept.',
  examples: [
    'mlship experiment examples/transfer-experiment/presets/default.json --out experiment/',
  ],
  fields: [
    {
      key: 'out',
      flag: '--out <dir>',
      help: 'results and report directory',
      type: { kind: 'string' },
      default: 'experiment',
    },
  ],
  async run({ out, io, signal }, [file], s) {
    const { runPreset, validatePreset } = await import('@mlship/transfer');
    const presetPath = path.resolve(io.cwd, file!);
    let preset: ExperimentPreset;
    try {
      preset = validatePreset(JSON.parse(await readFile(presetPath, 'utf8')) as ExperimentPreset);
    } catch (e) {
      throw new CliError('INVALID_CONFIG', `preset ${file}: ${(e as Error).message}`, {
        cause: e,
        data: { path: file },
      });
    }
    let bar: Progress | undefined;
    const result = await runPreset(preset, {
      dir: path.resolve(io.cwd, get<string>(s, 'out')),
      baseDir: path.dirname(presetPath),
      signal,
      onEvent: (e) => {
        if (e.type === 'base-start')
          out.note(`training the base model (${e.epochs} epochs on ${e.count} images)`);
        if (e.type !== 'experiment') return;
        const x = e.event;
        if (x.type === 'start') bar = out.progress('experiment', x.runs, '{run}');
        if (x.type === 'run-start') {
          bar?.update(x.index, { run: `${x.strategy} seed ${x.seed}` });
          if (!out.interactive)
            out.note(`run ${x.index + 1}/${x.total}: ${x.strategy} seed ${x.seed}`);
        }
      },
    });
    bar?.stop();
    const exp = result.experiments[result.experiments.length - 1]!;
    out.result(
      {
        base: result.base,
        experiments: result.experiments.map((x) => ({
          name: x.name,
          summary: x.summary,
          findings: x.findings,
        })),
        reports: result.reports,
        wallSeconds: result.wallSeconds,
      },
      () =>
        renderTable(
          ['strategy', 'test accuracy %', 'seconds', 'trainable params'],
          exp.summary.map((r) => [
            r.strategy,
            pm(r.testAccuracy),
            pm(r.seconds, 1, 1),
            r.trainableParams,
          ]),
        ) + `\nreport: ${result.reports.map((r) => r.html).join(', ')}`,
    );
  },
};
