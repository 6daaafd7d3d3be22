// A pthread worker of the threaded wasm module that fails while the module starts must not kill
// the process (emscripten's own handler rethrows from an event listener): the start-up fails
// instead, so the runtime can fall back to one thread.
import { describe, expect, it } from 'vitest';
import { PthreadWorker, watchPthreadStartup } from './threads';

describe('watchPthreadStartup', () => {
  it('turns a pthread worker that fails at start-up into a rejected start, not an uncaught error', async () => {
    const script = URL.createObjectURL(new Blob(['throw new Error("pthread boom")']));
    let emscriptenHandlerRan = false;
    let worker: PthreadWorker | undefined;
    const started = watchPthreadStartup(async (failed) => {
      worker = new PthreadWorker(script);
      // What emscripten does: its handler throws, which in Node kills the process.
      worker.on('error', (e: Error) => {
        emscriptenHandlerRan = true;
        throw e;
      });
      return failed;
    });
    await expect(started).rejects.toThrow(/pthread boom/);
    expect(emscriptenHandlerRan).toBe(false);
    // The failed start terminated its workers: nothing is left running.
    expect(worker?.threadId).toBe(-1);
    URL.revokeObjectURL(script);
  });
});
