// Finds where a blob's zlib data sits in a pack file (version-2 index), so checkout can stream it
// instead of loading the whole pack into memory as isomorphic-git does.
import type { RegistryContext } from '../context';

interface PackIndex {
  /** sorted object ids, 20 bytes each */
  ids: Buffer;
  offsets: number[];
  /** every offset sorted, to find where an object's data ends */
  sorted: number[];
  packBytes: number;
}

const indexes = new WeakMap<object, Map<string, PackIndex>>();

function parseIndex(idx: Uint8Array, packBytes: number): PackIndex | undefined {
  const b = Buffer.from(idx.buffer, idx.byteOffset, idx.byteLength);
  if (b.length < 8 + 256 * 4 || b.readUInt32BE(0) !== 0xff744f63 || b.readUInt32BE(4) !== 2)
    return undefined;
  const n = b.readUInt32BE(8 + 255 * 4);
  const idsAt = 8 + 256 * 4;
  const offAt = idsAt + n * 20 + n * 4;
  const largeAt = offAt + n * 4;
  const offsets: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = b.readUInt32BE(offAt + i * 4);
    if (o & 0x80000000) {
      const j = o & 0x7fffffff;
      offsets.push(Number(b.readBigUInt64BE(largeAt + j * 8)));
    } else offsets.push(o);
  }
  return {
    ids: b.subarray(idsAt, idsAt + n * 20),
    offsets,
    sorted: [...offsets].sort((x, y) => x - y),
    packBytes,
  };
}

function find(ix: PackIndex, oid: Buffer): number | undefined {
  let lo = 0;
  let hi = ix.offsets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = Buffer.compare(ix.ids.subarray(mid * 20, mid * 20 + 20), oid);
    if (c === 0) return ix.offsets[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * @internal Where a blob stored whole (not as a delta) lies in a pack: the pack file, the byte
 * range of its zlib data and its size. Undefined when no pack holds it undeltified (the caller then
 * reads it through isomorphic-git).
 */
export async function locatePackedBlob(
  ctx: RegistryContext,
  oid: string,
): Promise<{ path: string; start: number; end: number; size: number } | undefined> {
  const dir = `${ctx.gitdir}/objects/pack`;
  let cache = indexes.get(ctx.cache);
  if (!cache) indexes.set(ctx.cache, (cache = new Map<string, PackIndex>()));
  const want = Buffer.from(oid, 'hex');
  for (const name of await ctx.fsa.readdir(dir)) {
    if (!name.endsWith('.idx')) continue;
    const packPath = `${dir}/${name.slice(0, -4)}.pack`;
    const st = await ctx.fsa.lstat(packPath);
    if (!st) continue;
    const key = `${name}:${String(st.size)}`;
    let ix = cache.get(key);
    if (!ix) {
      const raw = await ctx.fsa.read(`${dir}/${name}`);
      ix = raw && parseIndex(raw, Number(st.size));
      if (!ix) continue;
      cache.set(key, ix);
    }
    const offset = find(ix, want);
    if (offset === undefined) continue;
    // the object header: type in bits 4-6 of the first byte, size in a little-endian varint
    const head = await ctx.fsa.fs.promises.open!(packPath, 'r');
    const buf = Buffer.alloc(32);
    try {
      await (
        head as { read(b: Uint8Array, o: number, l: number, p: number): Promise<unknown> }
      ).read(buf, 0, 32, offset);
    } finally {
      await (head as { close(): Promise<void> }).close();
    }
    let i = 0;
    let byte = buf[i++]!;
    const type = (byte >> 4) & 7;
    let size = byte & 15;
    let shift = 4;
    while (byte & 0x80) {
      byte = buf[i++]!;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (type !== 3) return undefined; // a delta (or not a blob): let isomorphic-git resolve it
    const next = ix.sorted.find((o) => o > offset) ?? ix.packBytes - 20;
    return { path: packPath, start: offset + i, end: next, size };
  }
  return undefined;
}
