#!/usr/bin/env node
import { runCli } from './program';

// Ctrl-C aborts long work (training stops between batches) instead of killing mid-write; a second
// Ctrl-C exits at once.
const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

void runCli(process.argv.slice(2), {}, { signal: controller.signal }).then((code) => {
  // Worker threads of the TensorFlow.js runtime may still hold the event loop: exit once the
  // output is flushed.
  process.stdout.write('', () => process.exit(code));
});
