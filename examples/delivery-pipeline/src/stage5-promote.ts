import { setTimeout as sleep } from 'node:timers/promises';
import type { ImageDataset } from '@mlship/data';
import type { Registry, ResolvedVersion } from '@mlship/registry';
import { startLoad } from './load';
import type { LoadReport } from './load';
import type { Run } from './run';

export interface PromoteResult {
  v2: ResolvedVersion;
  load: LoadReport;
  /** Seconds from the stage move to the first answer by v2. */
  swapSeconds: number;
}

/**
 * Stage 5: register the candidate as `cnn@v2` with its lineage (parent v1, strategy, dataset
 * fingerprints from its mlship.json) and move `production` to it, while clients keep sending
 * requests; the server notices the stage move and swaps to v2. Every request must succeed.
 */
export async function promote(
  run: Run,
  registry: Registry,
  v1: ResolvedVersion,
  candidateDir: string,
  url: string,
  traffic: ImageDataset,
): Promise<PromoteResult> {
  const { cfg, log } = run;
  const load = startLoad(url, traffic, { concurrency: 4, maxRequests: 50_000, maxSeconds: 120 });
  await sleep(500); // traffic is flowing on v1 before anything moves
  const v2 = await registry.register('cnn', candidateDir, {
    parent: v1.tag,
    strategy: cfg.transfer.strategy,
    message: `${cfg.transfer.strategy} on the shifted data`,
  });
  const moved = performance.now();
  await registry.assign(v2.tag, 'production', { message: 'passed the quality gate' });
  log(
    `  registered ${v2.tag} (parent ${v1.tag}, strategy ${cfg.transfer.strategy}); production -> v2`,
  );
  const swapped = await Promise.race([
    load.firstAnswerFrom(v2.version).then(() => true),
    sleep(60_000).then(() => false),
  ]);
  const swapSeconds = (performance.now() - moved) / 1000;
  await sleep(1000); // keep the load on v2 for a while
  const report = await load.stop();
  if (!swapped)
    throw new Error(`the server did not answer with ${v2.tag} within 60 s of the stage move`);
  log(
    `  hot swap: first answer from v2 ${swapSeconds.toFixed(2)} s after the move; ${report.requests} requests during the swap, ` +
      `${report.failed} failed (${Object.entries(report.byVersion)
        .map(([v, n]) => `v${v}: ${n}`)
        .join(', ')})`,
  );
  return { v2, load: report, swapSeconds };
}
