import * as zlib from 'node:zlib';
import pngjs from 'pngjs';

/** @internal A decoded image as RGBA8. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * @internal Decodes a PNG. The common case (8-bit grey, grey+alpha, RGB or RGBA, not interlaced)
 * takes a direct path (chunk CRCs checked, one inflate, unfilter) that is several times faster than
 * pngjs on small images; everything else (palette, 16-bit, interlaced) goes through pngjs.
 * @throws Error describing what is wrong with the file
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  const fast = crc32 === undefined ? undefined : decodeFast(bytes, crc32);
  if (fast) return fast;
  const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { width: png.width, height: png.height, rgba: png.data };
}

function decodeFast(bytes: Uint8Array, crc: (data: Uint8Array) => number): RgbaImage | undefined {
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) throw new Error('not a PNG signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (pos + 12 <= bytes.length) {
    const len = view.getUint32(pos, false);
    const typeAndData = bytes.subarray(pos + 4, pos + 8 + len);
    if (pos + 12 + len > bytes.length)
      throw new Error(`chunk at byte ${pos} runs past the end of the file (truncated)`);
    const type = String.fromCharCode(
      bytes[pos + 4] ?? 0,
      bytes[pos + 5] ?? 0,
      bytes[pos + 6] ?? 0,
      bytes[pos + 7] ?? 0,
    );
    if (crc(typeAndData) >>> 0 !== view.getUint32(pos + 8 + len, false))
      throw new Error(`bad CRC in ${type} chunk at byte ${pos}`);
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8, false);
      height = view.getUint32(pos + 12, false);
      const depth = data[8];
      const colorType = data[9] ?? -1;
      const interlace = data[12];
      channels = CHANNELS[colorType] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) return undefined;
      if (width === 0 || height === 0) throw new Error(`IHDR size ${width}x${height}`);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (type === 'PLTE' || type === 'tRNS') {
      return undefined; // transparency/palette: leave to pngjs
    }
    pos += 12 + len;
  }
  if (channels === 0) throw new Error('no IHDR chunk');
  if (!ended) throw new Error('no IEND chunk (truncated)');
  if (idat.length === 0) throw new Error('no IDAT chunk');
  const stride = width * channels;
  // A valid image inflates to exactly (stride + 1) * height bytes: stop a zlib bomb there.
  const raw = zlib.inflateSync(idat.length === 1 ? (idat[0] as Uint8Array) : Buffer.concat(idat), {
    maxOutputLength: (stride + 1) * height,
  });
  if (raw.length < (stride + 1) * height)
    throw new Error(`image data is ${raw.length} bytes (expected ${(stride + 1) * height})`);
  const px = new Uint8Array(stride * height);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    unfilterRow(raw, y * (stride + 1), px, y * stride, stride, bpp, y > 0, y);
  }
  if (channels === 4) return { width, height, rgba: px };
  const n = width * height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    if (channels === 1) {
      const g = px[i] as number;
      rgba[4 * i] = g;
      rgba[4 * i + 1] = g;
      rgba[4 * i + 2] = g;
      rgba[4 * i + 3] = 255;
    } else if (channels === 2) {
      const g = px[2 * i] as number;
      rgba[4 * i] = g;
      rgba[4 * i + 1] = g;
      rgba[4 * i + 2] = g;
      rgba[4 * i + 3] = px[2 * i + 1] as number;
    } else {
      rgba[4 * i] = px[3 * i] as number;
      rgba[4 * i + 1] = px[3 * i + 1] as number;
      rgba[4 * i + 2] = px[3 * i + 2] as number;
      rgba[4 * i + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/** Reverses one row's PNG filter (filter byte at `src`, data after it) into `px` at `out`. */
function unfilterRow(
  raw: Uint8Array,
  src: number,
  px: Uint8Array,
  out: number,
  stride: number,
  bpp: number,
  hasPrev: boolean,
  y: number,
): void {
  const filter = raw[src];
  const d = src + 1;
  const prev = out - stride;
  switch (filter) {
    case 0:
      px.set(raw.subarray(d, d + stride), out);
      return;
    case 1:
      for (let x = 0; x < stride; x++)
        px[out + x] =
          ((raw[d + x] as number) + (x >= bpp ? (px[out + x - bpp] as number) : 0)) & 0xff;
      return;
    case 2:
      if (!hasPrev) px.set(raw.subarray(d, d + stride), out);
      else
        for (let x = 0; x < stride; x++)
          px[out + x] = ((raw[d + x] as number) + (px[prev + x] as number)) & 0xff;
      return;
    case 3:
      for (let x = 0; x < stride; x++) {
        const a = x >= bpp ? (px[out + x - bpp] as number) : 0;
        const b = hasPrev ? (px[prev + x] as number) : 0;
        px[out + x] = ((raw[d + x] as number) + ((a + b) >> 1)) & 0xff;
      }
      return;
    case 4:
      for (let x = 0; x < stride; x++) {
        const a = x >= bpp ? (px[out + x - bpp] as number) : 0;
        const b = hasPrev ? (px[prev + x] as number) : 0;
        const c = hasPrev && x >= bpp ? (px[prev + x - bpp] as number) : 0;
        const p = a + b - c;
        const pa = p > a ? p - a : a - p;
        const pb = p > b ? p - b : b - p;
        const pc = p > c ? p - c : c - p;
        px[out + x] =
          ((raw[d + x] as number) + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      return;
    default:
      throw new Error(`unknown filter type ${String(filter)} in row ${y}`);
  }
}
