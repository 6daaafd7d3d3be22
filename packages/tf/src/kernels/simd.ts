import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Two WebAssembly SIMD loops that run on the wasm backend's own heap (the module imports the
 * backend's memory, so tensors are read and written in place, no copies): the Adam step and a
 * small matrix product that needs no packed operand. Encoded here, instruction by instruction,
 * rather than shipped as a binary; the text of each is in its comment.
 *
 * @internal
 */
export interface SimdKernels {
  /** See {@link adamBody}. Pointers are byte offsets into the heap. */
  adam: (
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
  /** See {@link gemmBody}. */
  gemm: (
    a: number,
    b: number,
    c: number,
    M: number,
    N: number,
    K: number,
    aRowBytes: number,
    aDepthBytes: number,
  ) => void;
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32 = {
  const: (n: number) => [0x41, ...sleb(n)],
  add: 0x6a,
  sub: 0x6b,
  mul: 0x6c,
  shl: 0x74,
  eqz: 0x45,
  geU: 0x4f,
};
const f32Load = [0x2a, 0x02, 0x00];
const SIMD = {
  load: (offset = 0) => [0xfd, 0x00, 0x04, ...uleb(offset)],
  store: (offset = 0) => [0xfd, 0x0b, 0x04, ...uleb(offset)],
  zero: [0xfd, 0x0c, ...Array<number>(16).fill(0)],
  splat: [0xfd, 0x13],
  sqrt: [0xfd, 0xe3, 0x01],
  add: [0xfd, 0xe4, 0x01],
  sub: [0xfd, 0xe5, 0x01],
  mul: [0xfd, 0xe6, 0x01],
  div: [0xfd, 0xe7, 0x01],
};
const BLOCK_LOOP = [0x02, 0x40, 0x03, 0x40];
const BR_IF_OUT = [0x0d, 0x01]; // leave the block around the loop
const BR_LOOP_END = [0x0c, 0x00, 0x0b, 0x0b]; // br loop; end loop; end block

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
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const types = (count: number, type: number): number[][] =>
  Array.from({ length: count }, () => [type]);

/**
 * (func $adam (param $x $m $v $g $xo $mo $vo $bytes i32) (param $b1 $b2 $a1 $a2 $step $c2 $eps f32))
 * every f32 parameter splatted to a v128 first; then for i = 0; i < bytes; i += 16:
 *   gi = load(g+i)
 *   mi = B1*load(m+i) + A1*gi            store(mo+i, mi)
 *   vi = B2*load(v+i) + A2*(gi*gi)       store(vo+i, vi)
 *   store(xo+i, load(x+i) - (S*mi) / (sqrt(vi*C2) + E))
 */
function adamBody(): number[] {
  const [X, M, V, G, XO, MO, VO, N] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [I, GI, MI, VI, B1, B2, A1, A2, S, C2, E] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  const at = (base: number) => [...get(base), ...get(I), i32.add];
  const load = (base: number) => [...at(base), ...SIMD.load()];
  // prettier-ignore
  const code = [
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((k) => [...get(8 + k), ...SIMD.splat, ...set(B1 + k)]),
    ...BLOCK_LOOP,
    ...get(I), ...get(N), i32.geU, ...BR_IF_OUT,
    ...load(G), ...set(GI),
    ...get(B1), ...load(M), ...SIMD.mul, ...get(A1), ...get(GI), ...SIMD.mul, ...SIMD.add, ...set(MI),
    ...get(B2), ...load(V), ...SIMD.mul,
    ...get(A2), ...get(GI), ...get(GI), ...SIMD.mul, ...SIMD.mul, ...SIMD.add, ...set(VI),
    ...at(MO), ...get(MI), ...SIMD.store(),
    ...at(VO), ...get(VI), ...SIMD.store(),
    ...at(XO), ...load(X),
    ...get(S), ...get(MI), ...SIMD.mul,
    ...get(VI), ...get(C2), ...SIMD.mul, ...SIMD.sqrt, ...get(E), ...SIMD.add,
    ...SIMD.div, ...SIMD.sub, ...SIMD.store(),
    ...get(I), ...i32.const(16), i32.add, ...set(I),
    ...BR_LOOP_END,
    0x0b,
  ];
  return [
    ...vec([
      [1, I32],
      [10, V128],
    ]),
    ...code,
  ];
}

/**
 * (func $gemm (param $a $b $c $M $N $K $ar $ak i32)): C[M,N] = A·B for float32 matrices, where
 * element (r, k) of A is at a + r·ar + k·ak (bytes: a row-major A has ar = 4K, ak = 4; a transposed
 * one, stored [K, M], has ar = 4, ak = 4M), B is row-major [K, N] and C row-major [M, N].
 * M must be a multiple of 4 and N of 8. For every 4x8 tile of C, eight v128 accumulators sum over k
 * the product of A's four values (each splatted) with B's eight (two loads): the "4x8 splat" shape
 * of XNNPACK's own wasm SIMD kernels, on B as it lies (no packing).
 */
function gemmBody(): number[] {
  const [A, B, C, M, N, K, AR, AK] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [m, n, k, pa, pb, pc, nb, ar2, ar3] = [8, 9, 10, 11, 12, 13, 14, 15, 16];
  const [b0, b1, x] = [17, 18, 19];
  const acc = [20, 21, 22, 23, 24, 25, 26, 27]; // row r: acc[2r], acc[2r + 1]
  const rowAddress = [
    get(pa),
    [...get(pa), ...get(AR), i32.add],
    [...get(pa), ...get(ar2), i32.add],
    [...get(pa), ...get(ar3), i32.add],
  ];
  const madd = (c: number, v: number) => [
    ...get(c),
    ...get(x),
    ...get(v),
    ...SIMD.mul,
    ...SIMD.add,
    ...set(c),
  ];
  // prettier-ignore
  const code = [
    ...get(N), ...i32.const(2), i32.shl, ...set(nb),
    ...get(AR), ...i32.const(1), i32.shl, ...set(ar2),
    ...get(ar2), ...get(AR), i32.add, ...set(ar3),
    ...BLOCK_LOOP, // m
    ...get(m), ...get(M), i32.geU, ...BR_IF_OUT,
    ...i32.const(0), ...set(n),
    ...BLOCK_LOOP, // n
    ...get(n), ...get(N), i32.geU, ...BR_IF_OUT,
    ...acc.flatMap((c) => [...SIMD.zero, ...set(c)]),
    ...get(A), ...get(m), ...get(AR), i32.mul, i32.add, ...set(pa),
    ...get(B), ...get(n), ...i32.const(2), i32.shl, i32.add, ...set(pb),
    ...get(K), ...set(k),
    ...BLOCK_LOOP, // k
    ...get(k), i32.eqz, ...BR_IF_OUT,
    ...get(pb), ...SIMD.load(), ...set(b0),
    ...get(pb), ...SIMD.load(16), ...set(b1),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...rowAddress[r]!, ...f32Load, ...SIMD.splat, ...set(x),
      ...madd(acc[2 * r]!, b0), ...madd(acc[2 * r + 1]!, b1),
    ]),
    ...get(pa), ...get(AK), i32.add, ...set(pa),
    ...get(pb), ...get(nb), i32.add, ...set(pb),
    ...get(k), ...i32.const(1), i32.sub, ...set(k),
    ...BR_LOOP_END,
    ...get(C), ...get(m), ...get(nb), i32.mul, ...get(n), ...i32.const(2), i32.shl, i32.add, i32.add, ...set(pc),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(pc), ...get(acc[2 * r]!), ...SIMD.store(),
      ...get(pc), ...get(acc[2 * r + 1]!), ...SIMD.store(16),
      ...(r < 3 ? [...get(pc), ...get(nb), i32.add, ...set(pc)] : []),
    ]),
    ...get(n), ...i32.const(8), i32.add, ...set(n),
    ...BR_LOOP_END,
    ...get(m), ...i32.const(4), i32.add, ...set(m),
    ...BR_LOOP_END,
    0x0b,
  ];
  return [
    ...vec([
      [9, I32],
      [11, V128],
    ]),
    ...code,
  ];
}

/** The module's bytes; `shared` imports a shared memory (the threaded wasm build's heap). */
export function simdModuleBytes(shared: boolean): Uint8Array {
  // memory limits: min 0, and for a shared memory the max any wasm32 memory can have.
  const limits = shared ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00];
  const bodies = [adamBody(), gemmBody()];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec([
        [0x60, ...vec([...types(8, I32), ...types(7, F32)]), 0],
        [0x60, ...vec(types(8, I32)), 0],
      ]),
    ),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec([[0], [1]])),
    ...section(
      7,
      vec([
        [...name('adam'), 0x00, 0x00],
        [...name('gemm'), 0x00, 0x01],
      ]),
    ),
    ...section(10, vec(bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
}

/** The part of the WebAssembly JS API used here (this package compiles without the DOM lib). */
interface WasmApi {
  Memory: abstract new (...args: never[]) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const modules = new Map<boolean, object | null>();
const instances = new WeakMap<object, SimdKernels | null>();

/**
 * The SIMD kernels on `backend`'s heap, or null where they cannot run (no WebAssembly SIMD, or a
 * backend whose memory is not reachable): callers then take their stock path.
 *
 * @internal
 */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  // The single-threaded module exports its memory; the threaded one imports it (wasmMemory).
  const module_ = backend.wasm as unknown as { asm?: { memory?: unknown }; wasmMemory?: unknown };
  const memory = module_.asm?.memory ?? module_.wasmMemory;
  if (!(memory instanceof Wasm.Memory)) return null;
  const known = instances.get(memory);
  if (known !== undefined) return known;
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  let module = modules.get(shared);
  if (module === undefined) {
    const bytes = simdModuleBytes(shared);
    module = Wasm.validate(bytes) ? new Wasm.Module(bytes) : null;
    modules.set(shared, module);
  }
  let kernels: SimdKernels | null = null;
  if (module !== null) {
    try {
      kernels = new Wasm.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
    } catch {
      kernels = null; // a memory the import does not match: the stock paths remain
    }
  }
  instances.set(memory, kernels);
  return kernels;
}
