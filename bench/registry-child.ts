/**
 * Child process of `bench/registry.ts`: one registry operation in a fresh process, so its wall time
 * includes what a new process pays (nothing cached) and its peak memory is its own.
 *
 *   tsx bench/registry-child.ts register <repo> <modelDir>     -> {"ms", "baseRssMiB", "peakRssMiB"}
 *   tsx bench/registry-child.ts checkout <repo> <ref> <dest>   -> same
 *   tsx bench/registry-child.ts resolve  <repo> <ref>...       -> {"openMs", "resolveMs": [...]}
 *
 * Prints one JSON line. Imports the built dist.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openRegistry } from '@mlship/registry';

const [op, repo, ...args] = process.argv.slice(2);

/**
 * Peak resident memory of this process so far, MiB: Linux's VmHWM (per address space, so it starts
 * afresh at exec; getrusage's maxRSS would inherit the parent's peak across fork + exec), else maxRSS.
 */
function peakRssMiB(): number {
  let kib = process.resourceUsage().maxRSS;
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) kib = Number(m[1]);
  } catch {
    // not Linux: maxRSS it is
  }
  return Number((kib / 1024).toFixed(1));
}

if (op === 'resolve') {
  const t0 = performance.now();
  const reg = await openRegistry({ dir: repo!, create: false });
  const openMs = performance.now() - t0;
  const resolveMs: number[] = [];
  for (const ref of args) {
    const t = performance.now();
    await reg.resolve(ref);
    resolveMs.push(Number((performance.now() - t).toFixed(1)));
  }
  console.log(JSON.stringify({ openMs: Number(openMs.toFixed(1)), resolveMs }));
} else if (op === 'register' || op === 'checkout') {
  const reg = await openRegistry({ dir: repo!, create: op === 'register' });
  const baseRss = peakRssMiB();
  const t0 = performance.now();
  if (op === 'register') await reg.register('cnn', args[0]!);
  else await reg.checkout(args[0]!, args[1]!);
  const ms = performance.now() - t0;
  console.log(
    JSON.stringify({
      ms: Number(ms.toFixed(1)),
      baseRssMiB: baseRss,
      peakRssMiB: peakRssMiB(),
    }),
  );
} else {
  throw new Error(`unknown op ${String(op)}`);
}
