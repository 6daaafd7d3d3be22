import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The arguments every wasm kernel function receives. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs?: tf.NamedAttrMap;
}

export type WasmKernelFunc = (args: WasmKernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/**
 * The kernel functions of the stock wasm backend, saved before any of them is replaced, so that
 * replacements can call the original fast path (and other kernels can compose stock kernels without
 * going through a replacement). Global, like tfjs's kernel registry, so that two loaded copies of
 * this package (its ESM and CJS builds) share it.
 */
const stock: Map<string, tf.KernelConfig | null> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('@mlship/tf:wasm-stock-kernels')
] ??= new Map()) as Map<string, tf.KernelConfig | null>;

/** Marks the kernel functions of this package (in any loaded copy of it). */
export const OURS = Symbol.for('@mlship/tf:wasm-training-kernel');

/** Saves the stock config of `name` if it was not saved yet (null when wasm has none). */
export function saveStockKernel(name: string): void {
  if (stock.has(name)) return;
  const config = tf.getKernel(name, 'wasm');
  if (config == null || !isOurs(config.kernelFunc)) stock.set(name, config ?? null);
}

/** Whether `f` is one of this package's kernel functions. */
export function isOurs(f: unknown): boolean {
  return (f as Record<symbol, unknown> | null)?.[OURS] === true;
}

/** The stock wasm kernel config of `name` (saved before replacement), or undefined if none. */
export function stockKernelConfig(name: string): tf.KernelConfig | undefined {
  if (stock.has(name)) return stock.get(name) ?? undefined;
  return tf.getKernel(name, 'wasm');
}

/** Runs the stock wasm kernel `name`; throws if wasm has none. */
export function runStock(
  name: string,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = stockKernelConfig(name);
  if (config == null) throw new Error(`@mlship/tf: the wasm backend has no '${name}' kernel.`);
  const out = (config.kernelFunc as unknown as WasmKernelFunc)({ inputs, backend, attrs });
  return Array.isArray(out) ? out[0]! : out;
}

/** Releases an intermediate TensorInfo a kernel created (refcounted: aliases stay valid). */
export function dispose(backend: BackendWasm, ...infos: (tf.TensorInfo | undefined)[]): void {
  for (const info of infos) if (info != null) backend.disposeData(info.dataId);
}

/** Transposes `x` with the stock wasm Transpose kernel (a new TensorInfo the caller owns). */
export function transpose(backend: BackendWasm, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return runStock('Transpose', backend, { x }, { perm });
}

/** A view of a tensor's data on the wasm heap. Take views only after the last makeOutput call:
 * allocating can grow the heap, which detaches earlier views. */
export function heapF32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** The byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: BackendWasm, info: tf.TensorInfo): number {
  return (backend.dataIdMap.get(info.dataId) as unknown as { memoryOffset: number }).memoryOffset;
}

/** The attributes the Conv2DBackpropFilter and Conv2DBackpropInput kernels share. */
export interface Conv2DBackpropAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The forward convolution's info for a Conv2DBackprop* kernel: forward input `inShape` and
 * `filterShape` (dilation 1, no depthwise), in the layout `attrs.dataFormat` names.
 */
export function conv2DBackpropInfo(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: Conv2DBackpropAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/**
 * A stride-1 NHWC convolution by the stock wasm (XNNPACK) Conv2D kernel with explicit padding
 * `[top, bottom]` x `[left, right]` and `dilations` (a new TensorInfo the caller owns): the
 * building block of both Conv2DBackprop* kernels.
 */
export function stockConv2D(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  padH: [number, number],
  padW: [number, number],
  dilations: [number, number],
): tf.TensorInfo {
  return runStock(
    'Conv2D',
    backend,
    { x, filter },
    {
      strides: [1, 1],
      pad: [[0, 0], padH, padW, [0, 0]],
      dataFormat: 'NHWC',
      dilations,
    },
  );
}

/** [top, bottom, left, right] padding of a computed conv/pool info. */
export function pads(info: tf.backend_util.Conv2DInfo): [number, number, number, number] {
  const p = info.padInfo;
  return [p.top, p.bottom, p.left, p.right];
}

/**
 * A TensorInfo aliasing part of `base`'s buffer (`offset` elements in), without a copy. Release it
 * with {@link releaseView}, never with disposeData (which would free memory the view does not own),
 * and before `base` is disposed.
 */
export function view(
  backend: BackendWasm,
  base: tf.TensorInfo,
  offset: number,
  shape: number[],
): tf.TensorInfo {
  const bytes = base.dtype === 'bool' ? 1 : 4;
  return backend.makeOutput(shape, base.dtype, heapOffset(backend, base) + offset * bytes);
}

/** Forgets a view made by {@link view} (on both sides of the wasm backend), freeing nothing. */
export function releaseView(backend: BackendWasm, info: tf.TensorInfo): void {
  const { id } = backend.dataIdMap.get(info.dataId) as unknown as { id: number };
  backend.dataIdMap.delete(info.dataId);
  (backend.wasm as unknown as { tfjs: { disposeData(id: number): void } }).tfjs.disposeData(id);
}
