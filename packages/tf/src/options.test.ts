// Plain JavaScript callers misspell option keys; every public function with an options object
// rejects a key it does not read, before doing any work, naming the key and the accepted ones.
import { describe, expect, it } from 'vitest';
import { isTfError } from './errors';
import {
  createInferencePool,
  createParallelTrainer,
  enableWasmThreads,
  initRuntime,
  loadLayersModel,
  saveLayersModel,
} from './index';

const cases: [string, () => Promise<unknown>, RegExp][] = [
  [
    'initRuntime',
    () => initRuntime({ backnd: 'cpu' } as never),
    /^initRuntime options: unknown option "backnd" \(did you mean "backend"\?\); accepted: backend, env, threads$/,
  ],
  [
    'enableWasmThreads',
    () => enableWasmThreads(1, { timeout: 5 } as never),
    /^enableWasmThreads options: unknown option "timeout" \(did you mean "timeoutMs"\?\); accepted: timeoutMs$/,
  ],
  [
    'saveLayersModel',
    () => saveLayersModel(undefined as never, '/nonexistent/m', { overwrites: true } as never),
    /^saveLayersModel options: unknown option "overwrites" \(did you mean "overwrite"\?\); accepted: overwrite, extraFiles$/,
  ],
  [
    'loadLayersModel',
    () => loadLayersModel('/nonexistent/m', { strct: false } as never),
    /^loadLayersModel options: unknown option "strct" \(did you mean "strict"\?\); accepted: strict$/,
  ],
  [
    'createParallelTrainer',
    () => createParallelTrainer({ model: undefined as never, worker: 1 } as never),
    /^createParallelTrainer options: unknown option "worker" \(did you mean "workers"\?\); accepted: model, workers, mainShard, balance, backend, workerEntry$/,
  ],
  [
    'createInferencePool',
    () => createInferencePool({ modelDir: '/nonexistent/m', treads: 2 } as never),
    /^createInferencePool options: unknown option "treads"; accepted: modelArtifacts, model, modelDir, workers, backend, workerEntry$/,
  ],
];

describe('unknown option keys', () => {
  it.each(cases)(
    '%s rejects one with INVALID_OPTION naming it and the accepted keys',
    async (_name, call, message) => {
      const error: unknown = await call().catch((e: unknown) => e);
      expect(isTfError(error) && error.code).toBe('INVALID_OPTION');
      expect((error as Error).message).toMatch(message);
      expect((error as { data?: { accepted?: unknown } }).data?.accepted).toEqual(
        expect.any(Array),
      );
    },
  );
});
