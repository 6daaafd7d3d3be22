import type { BackendRequest, RuntimeInfo } from '@mlship/tf';
import type { Output } from './output';

/** Starts TensorFlow.js on the requested backend and notes which one runs and why. */
export async function startRuntime(out: Output, backend: string): Promise<RuntimeInfo> {
  // Imported on use: `mlship --help` and the registry commands never load TensorFlow.js.
  const { initRuntime } = await import('@mlship/tf');
  const info = await initRuntime(backend === 'auto' ? {} : { backend: backend as BackendRequest });
  out.note(`backend: ${info.backend} (${info.reason})`);
  return info;
}
