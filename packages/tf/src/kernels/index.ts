/**
 * Registers the training kernels the stock wasm backend lacks or runs as slow scalar loops.
 * (Being implemented: see issue #2.)
 *
 * @returns the names of the kernels registered or replaced.
 * @internal
 */
export function registerWasmTrainingKernels(): string[] {
  return [];
}
