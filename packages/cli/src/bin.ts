#!/usr/bin/env node
import { runCli } from './program';

// Ctrl-C (SIGINT) and SIGTERM (what `kill`, a container runtime and Kubernetes send) abort long
// work instead of killing mid-write: training stops between batches, `mlship serve` drains its
// in-flight requests and exits 0. A second signal exits at once (128 + the signal's number).
const controller = new AbortController();
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    controller.abort();
    process.once(signal, () => process.exit(code));
  });
}

void runCli(process.argv.slice(2), {}, { signal: controller.signal }).then((code) => {
  // Worker threads of the TensorFlow.js runtime may still hold the event loop: exit once the
  // output is flushed.
  process.stdout.write('', () => process.exit(code));
});
