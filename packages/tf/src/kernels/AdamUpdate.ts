import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, type WasmKernelArgs } from './common';

/** The name of the fused Adam step kernel (registered for wasm only). */
export const ADAM_UPDATE = 'MlshipAdamUpdate';

/** Attributes of {@link ADAM_UPDATE}: the step's constants, bias corrections included. */
export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t of this step (t counts from 1). */
  correction1: number;
  /** 1 - beta2^t of this step. */
  correction2: number;
}

type AdamLoop = (
  x: number,
  m: number,
  v: number,
  g: number,
  xOut: number,
  mOut: number,
  vOut: number,
  bytes: number,
  beta1: number,
  beta2: number,
  oneMinusBeta1: number,
  oneMinusBeta2: number,
  step: number,
  inverseCorrection2: number,
  epsilon: number,
) => void;

// The WebAssembly module of the SIMD loop, encoded here rather than shipped as a binary. Its text:
//
//   (func (export "adam") (param $x $m $v $g $xo $mo $vo $bytes i32)
//                         (param $b1 $b2 $a1 $a2 $step $c2 $eps f32)
//     ;; every f32 parameter splatted to a v128 local first
//     (loop (br_if done (i >= bytes))
//       gi = load(g+i)
//       mi = B1*load(m+i) + A1*gi            store(mo+i, mi)
//       vi = B2*load(v+i) + A2*(gi*gi)       store(vo+i, vi)
//       store(xo+i, load(x+i) - (S*mi) / (sqrt(vi*C2) + E))
//       i += 16))
//
// on the memory it imports as env.memory (the wasm backend's own heap).
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const SIMD = {
  load: [0xfd, 0x00, 0x04, 0x00],
  store: [0xfd, 0x0b, 0x04, 0x00],
  splat: [0xfd, 0x13],
  sqrt: [0xfd, 0xe3, 0x01],
  add: [0xfd, 0xe4, 0x01],
  sub: [0xfd, 0xe5, 0x01],
  mul: [0xfd, 0xe6, 0x01],
  div: [0xfd, 0xe7, 0x01],
};
const I32_ADD = 0x6a;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const params = (count: number, type: number): number[][] =>
  Array.from({ length: count }, () => [type]);

function adamModuleBytes(): Uint8Array {
  // Parameters 0-7: x m v g xo mo vo bytes; 8-14: b1 b2 a1 a2 step c2 eps. Locals: 15 = i,
  // 16 gi, 17 mi, 18 vi, 19-25 the splatted parameters 8-14.
  const [X, M, V, G, XO, MO, VO, N] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [I, GI, MI, VI, B1, B2, A1, A2, S, C2, E] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  const at = (base: number) => [...get(base), ...get(I), I32_ADD];
  const load = (base: number) => [...at(base), ...SIMD.load];
  // prettier-ignore
  const body = [
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((k) => [...get(8 + k), ...SIMD.splat, ...set(B1 + k)]),
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(I), ...get(N), 0x4f, 0x0d, 0x01, // br_if block (i >= bytes)
    ...load(G), ...set(GI),
    // mi = B1*m + A1*gi
    ...get(B1), ...load(M), ...SIMD.mul, ...get(A1), ...get(GI), ...SIMD.mul, ...SIMD.add, ...set(MI),
    // vi = B2*v + A2*(gi*gi)
    ...get(B2), ...load(V), ...SIMD.mul,
    ...get(A2), ...get(GI), ...get(GI), ...SIMD.mul, ...SIMD.mul, ...SIMD.add, ...set(VI),
    ...at(MO), ...get(MI), ...SIMD.store,
    ...at(VO), ...get(VI), ...SIMD.store,
    // xo = x - (S*mi) / (sqrt(vi*C2) + E)
    ...at(XO), ...load(X),
    ...get(S), ...get(MI), ...SIMD.mul,
    ...get(VI), ...get(C2), ...SIMD.mul, ...SIMD.sqrt, ...get(E), ...SIMD.add,
    ...SIMD.div, ...SIMD.sub, ...SIMD.store,
    ...get(I), 0x41, 0x10, I32_ADD, ...set(I), // i += 16
    0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br loop; end loop, block, func
  ];
  const locals = vec([
    [1, I32],
    [10, V128],
  ]);
  const func = [...locals, ...body];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([...params(8, I32), ...params(7, F32)]), 0]])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('adam'), 0x00, 0x00]])),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}

/** The part of the WebAssembly JS API used here (this package compiles without the DOM lib). */
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let moduleCache: object | null | undefined;
const loops = new WeakMap<object, AdamLoop>();

/** The SIMD loop on `backend`'s heap, or null where WebAssembly SIMD is unavailable. */
function simdLoop(backend: BackendWasm): AdamLoop | null {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof Wasm.Memory)) return null;
  let loop = loops.get(memory);
  if (loop !== undefined) return loop;
  if (moduleCache === undefined) {
    const bytes = adamModuleBytes();
    moduleCache = Wasm.validate(bytes) ? new Wasm.Module(bytes) : null;
  }
  if (moduleCache === null) return null;
  const instance = new Wasm.Instance(moduleCache, { env: { memory } });
  loop = instance.exports['adam'] as AdamLoop;
  loops.set(memory, loop);
  return loop;
}

const offset = (backend: BackendWasm, t: tf.TensorInfo) =>
  (backend.dataIdMap.get(t.dataId) as unknown as { memoryOffset: number }).memoryOffset;

/**
 * One Adam step for one variable in a single pass over its elements: inputs `x` (the variable's
 * value), `m`, `v` (its moments) and `g` (its gradient), all float32 of one shape; outputs the new
 * `x`, `m` and `v` as new tensors (never in place: XNNPACK caches the packed form of a matmul
 * operand by tensor, so a value changed in place would be multiplied with its stale packing).
 *
 * The arithmetic of tfjs's AdamOptimizer (m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * x ← x − lr·(m / c1) / (√(v / c2) + ε)) in float32, four elements at a time by WebAssembly SIMD
 * on the backend's heap: the stock optimizer runs ~13 kernels per variable, each a pass over it.
 */
export function adamUpdate(args: WasmKernelArgs): tf.TensorInfo[] {
  const { inputs, backend } = args;
  const { x, m, v, g } = inputs as Record<'x' | 'm' | 'v' | 'g', tf.TensorInfo>;
  const { learningRate, beta1, beta2, epsilon, correction1, correction2 } =
    args.attrs as unknown as AdamUpdateAttrs;
  const outs = [0, 1, 2].map(() => backend.makeOutput(x.shape, 'float32'));
  const n = x.shape.reduce((a, b) => a * b, 1);
  const step = learningRate / correction1;
  const c2 = 1 / correction2;
  const loop = simdLoop(backend);
  // The SIMD loop takes whole groups of 4; the rest (and everything without SIMD) runs below.
  const simd = loop === null ? 0 : n - (n % 4);
  if (simd > 0) {
    const [x0, m0, v0, g0, xo, mo, vo] = [x, m, v, g, ...outs].map((t) => offset(backend, t));
    loop!(
      x0!,
      m0!,
      v0!,
      g0!,
      xo!,
      mo!,
      vo!,
      simd * 4,
      beta1,
      beta2,
      1 - beta1,
      1 - beta2,
      step,
      c2,
      epsilon,
    );
  }
  if (simd < n) {
    // Views only now: makeOutput can grow the heap, which detaches earlier views.
    const [xs, ms, vs, gs, xo, mo, vo] = [x, m, v, g, ...outs].map((t) => heapF32(backend, t));
    const f = Math.fround;
    for (let i = simd; i < n; i++) {
      const gi = gs![i]!;
      const mi = f(f(f(beta1) * ms![i]!) + f(f(1 - beta1) * gi));
      const vi = f(f(f(beta2) * vs![i]!) + f(f(1 - beta2) * f(gi * gi)));
      mo![i] = mi;
      vo![i] = vi;
      xo![i] = xs![i]! - f(f(f(step) * mi) / f(f(Math.sqrt(f(vi * f(c2)))) + f(epsilon)));
    }
  }
  return outs;
}
