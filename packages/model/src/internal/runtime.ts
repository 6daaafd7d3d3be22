import type { RuntimeInfo } from '@mlship/tf';
import { getRuntimeInfo, initRuntime, isTfError, tf } from '@mlship/tf';
import { describeError } from '@mlship/core';
import { ModelError } from '../errors';
import type { ModelErrorCode } from '../errors';

/**
 * Throws unless `info` is a runtime worth training on: any backend but the pure-JavaScript `cpu`
 * one, which is fine only when it was asked for (`initRuntime({ backend: 'cpu' })` or
 * `MLSHIP_BACKEND=cpu`), never as a silent fallback.
 *
 * @throws {@link ModelError} `BACKEND_UNAVAILABLE` naming why no fast backend is running
 * @internal
 */
export function checkRuntime(
  info: Pick<RuntimeInfo, 'backend' | 'requested' | 'reason'>,
  what: string,
): void {
  if (info.backend !== 'cpu' || info.requested === 'cpu') return;
  throw new ModelError(
    'BACKEND_UNAVAILABLE',
    `${what}: expected a fast TensorFlow.js backend (wasm or tensorflow), got only the pure-JavaScript cpu backend (${info.reason}), which trains about 300x slower; reinstall @mlship/tf's dependencies (@tensorflow/tfjs-backend-wasm), or choose cpu explicitly with initRuntime({ backend: 'cpu' }) or MLSHIP_BACKEND=cpu`,
    { data: { backend: info.backend, requested: info.requested } },
  );
}

const FROM_TF: Partial<Record<string, ModelErrorCode>> = {
  INVALID_OPTION: 'INVALID_OPTION',
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  BACKEND_INIT_FAILED: 'BACKEND_INIT_FAILED',
};

/**
 * Makes sure a fast TensorFlow.js runtime is ready before `what` (train, evaluate, predict,
 * loadModelDir) touches tensors: when no backend was chosen through @mlship/tf's `initRuntime` yet
 * (or the active one is not the one it set up), it calls `initRuntime()` (which honours
 * `MLSHIP_BACKEND`); a runtime that ended up on `cpu` without being asked to is refused.
 *
 * @throws {@link ModelError} `BACKEND_UNAVAILABLE`, `BACKEND_INIT_FAILED` or `INVALID_OPTION` (a bad
 *   `MLSHIP_BACKEND`), with @mlship/tf's error as `cause`
 * @internal
 */
export async function ensureRuntime(what: string): Promise<void> {
  let info = getRuntimeInfo();
  // With an initRuntime result the engine has a backend, so getBackend() initialises nothing.
  if (info === undefined || tf.getBackend() !== info.backend) {
    try {
      info = await initRuntime();
    } catch (e) {
      const code = (isTfError(e) && FROM_TF[e.code]) || 'BACKEND_INIT_FAILED';
      throw new ModelError(
        code,
        `${what}: could not make a TensorFlow.js runtime ready: ${describeError(e)}`,
        { cause: e, data: { tfCode: isTfError(e) ? e.code : null } },
      );
    }
  }
  checkRuntime(info, what);
}
