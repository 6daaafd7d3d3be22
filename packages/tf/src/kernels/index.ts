import * as tf from '@tensorflow/tfjs';
import { TfError } from '../errors';
import {
  isOurs,
  OURS,
  saveStockKernel,
  stockKernelConfig,
  type WasmKernelArgs,
  type WasmKernelFunc,
} from './common';
import { ADAM_UPDATE, adamUpdate } from './AdamUpdate';
import { batchMatMul } from './BatchMatMul';
import {
  LABEL_HITS,
  LABEL_LOSS,
  LABEL_LOSS_GRAD,
  labelHits,
  labelLoss,
  labelLossGrad,
  registerLabelLossGradient,
} from './LabelLoss';
import { conv2DBackpropFilter } from './Conv2DBackpropFilter';
import { conv2DBackpropInput } from './Conv2DBackpropInput';
import { fusedBatchNorm } from './FusedBatchNorm';
import { fusedMatMul } from './_FusedMatMul';
import { gatherV2 } from './GatherV2';
import { identity } from './Identity';
import { maxPoolGrad } from './MaxPoolGrad';
import { tile } from './Tile';
import { registerWasmGradients, WASM_TRAINING_GRADIENT_NAMES } from './gradients';
import { reduceLeading } from './reduce';

/** A training kernel for the wasm backend: its name and implementation. */
interface TrainingKernel {
  name: string;
  kernelFunc: WasmKernelFunc;
}

/** Calls the stock wasm kernel `name` (saved before it was replaced). */
function stockFunc(name: string): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args) => {
    const config = stockKernelConfig(name);
    if (config == null) throw new Error(`@mlship/tf: the wasm backend has no stock '${name}'.`);
    return (config.kernelFunc as unknown as WasmKernelFunc)(args) as tf.TensorInfo;
  };
}

const KERNELS: readonly TrainingKernel[] = [
  { name: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter },
  {
    name: 'Conv2DBackpropInput',
    kernelFunc: (args) => conv2DBackpropInput(args, stockFunc('Conv2DBackpropInput')),
  },
  { name: 'BatchMatMul', kernelFunc: (args) => batchMatMul(args, stockFunc('BatchMatMul')) },
  { name: '_FusedMatMul', kernelFunc: (args) => fusedMatMul(args, stockFunc('_FusedMatMul')) },
  { name: 'MaxPoolGrad', kernelFunc: (args) => maxPoolGrad(args, stockFunc('MaxPoolGrad')) },
  { name: 'Tile', kernelFunc: (args) => tile(args, stockFunc('Tile')) },
  { name: 'Sum', kernelFunc: (args) => reduceLeading(args, stockFunc('Sum'), false) },
  { name: 'Mean', kernelFunc: (args) => reduceLeading(args, stockFunc('Mean'), true) },
  { name: 'Identity', kernelFunc: (args) => identity(args, stockFunc('Identity')) },
  { name: 'GatherV2', kernelFunc: (args) => gatherV2(args, stockFunc('GatherV2')) },
  {
    name: 'FusedBatchNorm',
    kernelFunc: (args) => fusedBatchNorm(args, stockFunc('FusedBatchNorm')),
  },
  { name: ADAM_UPDATE, kernelFunc: adamUpdate },
  { name: LABEL_LOSS, kernelFunc: labelLoss },
  { name: LABEL_LOSS_GRAD, kernelFunc: labelLossGrad },
  { name: LABEL_HITS, kernelFunc: labelHits },
];

const COMPOSED_OF = [
  'Transpose',
  'Conv2D',
  'Slice',
  'Identity',
  'Add',
  'Sub',
  'Multiply',
  'Relu',
  'Relu6',
  'Elu',
  'Sigmoid',
  'LeakyRelu',
  'Prelu',
];

/**
 * Names of the kernels {@link registerWasmTrainingKernels} registers on (or replaces in) the wasm
 * backend (`initRuntime` does that; `RuntimeInfo.kernels` lists what it did).
 *
 * @example
 * ```ts
 * const ours = tf.getKernelsForBackend('wasm').filter((k) => WASM_TRAINING_KERNEL_NAMES.includes(k.kernelName));
 * ```
 */
export const WASM_TRAINING_KERNEL_NAMES: readonly string[] = KERNELS.map((k) => k.name);

for (const { kernelFunc } of KERNELS)
  (kernelFunc as unknown as Record<symbol, boolean>)[OURS] = true;

/**
 * Registers the training kernels the stock wasm backend lacks or runs as slow scalar loops
 * (Conv2DBackpropFilter, ...), keeping each stock kernel it replaces for its fast path and
 * fallbacks. Touches only the 'wasm' backend; idempotent. Also replaces, for the wasm backend only,
 * the gradients of Mean and Sum ({@link WASM_TRAINING_GRADIENT_NAMES}): on other backends they run
 * the stock gradient functions.
 *
 * `initRuntime` calls it on wasm; call it yourself only if you set up the wasm backend without
 * `initRuntime` (e.g. `tf.setBackend('wasm')` directly).
 *
 * @returns the names of the kernels registered or replaced (all of them, also on a repeated call).
 * @throws TfError `BACKEND_UNAVAILABLE` when `@tensorflow/tfjs-backend-wasm` has not been imported
 *   yet.
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * await tf.setBackend('wasm');
 * registerWasmTrainingKernels(); // ['Conv2DBackpropFilter', 'Conv2DBackpropInput', ...]
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  if (stockKernelConfig('Conv2D') == null) {
    throw new TfError(
      'BACKEND_UNAVAILABLE',
      "@mlship/tf: the wasm backend's kernels are not registered: import " +
        "'@tensorflow/tfjs-backend-wasm' before calling registerWasmTrainingKernels().",
    );
  }
  // The stock kernels the new ones are composed of: bound now, so that the composites keep calling
  // the stock functions even if something (a profiler, say) wraps the registered ones later.
  for (const name of COMPOSED_OF) saveStockKernel(name);
  const names: string[] = [];
  for (const { name, kernelFunc } of KERNELS) {
    const current = tf.getKernel(name, 'wasm');
    if (current == null || !isOurs(current.kernelFunc)) {
      saveStockKernel(name);
      const original = stockKernelConfig(name);
      if (current != null) tf.unregisterKernel(name, 'wasm');
      const config: tf.KernelConfig = {
        kernelName: name,
        backendName: 'wasm',
        kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      };
      // The engine runs setupFunc on every backend (re)initialization: keep the stock one so the
      // original kernel we fall back to stays bound to the current wasm module.
      if (original?.setupFunc != null) config.setupFunc = original.setupFunc;
      if (original?.disposeFunc != null) config.disposeFunc = original.disposeFunc;
      tf.registerKernel(config);
    }
    names.push(name);
  }
  registerWasmGradients();
  registerLabelLossGradient();
  return names;
}

export { WASM_TRAINING_GRADIENT_NAMES };
