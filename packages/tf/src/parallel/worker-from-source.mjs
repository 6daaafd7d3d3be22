// Starts worker.ts in a worker thread when @mlship/tf runs from its TypeScript source (vitest,
// tsx): Node 20 cannot load a .ts worker by itself, and tsx's --import hook does not reach a
// worker's entry module, so this registers tsx's ESM loader in the thread, then imports the worker.
// Built packages never use it: they start dist/worker.js or dist/worker.cjs directly.
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';

const api = await import(pathToFileURL(workerData.tsx).href);
(api.register ?? api.default.register)();
await import(new URL('./worker.ts', import.meta.url).href);
