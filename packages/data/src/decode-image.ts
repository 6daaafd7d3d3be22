import jpegjs from 'jpeg-js';
import { describeError } from '@mlship/core';
import { DataError } from './errors';
import { checkDataOptions } from './options';
import { decodePng } from './png';
import type { RgbaImage } from './png';
import { rgbaToResized } from './resize';

/** Options of {@link decodeImage}. */
export interface DecodeImageOptions {
  /** 1 (grey, BT.601 luma) or 3 (RGB). Alpha is ignored. */
  channels: 1 | 3;
  /** Output height in pixels (1..16384). */
  height: number;
  /** Output width in pixels (1..16384). */
  width: number;
  /**
   * Refuse images whose stored width x height exceeds this many pixels, before decoding them
   * (default 16,777,216 = 4096 x 4096): a few bytes of PNG or JPEG can declare a gigapixel image.
   */
  maxPixels?: number;
}

/** An image decoded by {@link decodeImage}: raw pixels in the requested size and channels. */
export interface DecodedImage {
  /** Raw pixels 0..255, row-major HWC, length `height * width * channels`. */
  pixels: Uint8Array;
  /** `[height, width, channels]` of `pixels`. */
  shape: [number, number, number];
  /** The file format that was detected. */
  format: 'png' | 'jpeg';
  /** The stored size of the image before resizing. */
  original: { width: number; height: number };
}

const DEFAULT_MAX_PIXELS = 4096 * 4096;

/** The file format from the first bytes, or undefined. @internal */
export function imageFormatOf(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  return undefined;
}

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Decodes PNG or JPEG bytes to RGBA, refusing images larger than `maxPixels` before any pixel
 * memory is allocated. Throws a plain Error describing the problem (callers wrap it). @internal
 */
export function decodeRgba(bytes: Uint8Array, maxPixels: number, where: string): RgbaImage {
  const format = imageFormatOf(bytes);
  if (format === 'png') {
    // IHDR is the first chunk: signature (8) + length (4) + "IHDR" (4), then width and height.
    if (bytes.length >= 24) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const w = view.getUint32(16, false);
      const h = view.getUint32(20, false);
      if (w * h > maxPixels)
        throw new Error(`PNG of ${w}x${h} pixels exceeds the limit of ${maxPixels} pixels`);
    }
    return decodePng(bytes);
  }
  if (format === 'jpeg') {
    const img = jpegjs.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.max(64, Math.ceil((maxPixels * 8) / 2 ** 20)),
    });
    return { rgba: img.data, width: img.width, height: img.height };
  }
  throw new Error(`not a PNG or JPEG file (first bytes ${hexStart(bytes)}) at ${where}`);
}

function dim(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 16384) {
    throw new DataError(
      'INVALID_OPTION',
      `decodeImage: ${what} ${String(v)} is not valid (expected an integer 1..16384)`,
      { data: { path: what, expected: '1..16384', actual: v } },
    );
  }
  return v;
}

/**
 * Decodes one PNG or JPEG image (detected from its first bytes) into raw pixels of the given size
 * and channel count: the same decoding, channel conversion (luma for 1 channel) and antialiased
 * bilinear resizing as {@link loadImageFolder}, for one image held in memory (an upload, a base64
 * field of a request). Images declaring more than `maxPixels` pixels are refused before decoding.
 *
 * @param bytes - the file's bytes
 * @param options - `channels`, `height`, `width`, `maxPixels`
 * @returns the pixels (Uint8, HWC) and the image's stored size
 * @throws DataError `INVALID_OPTION` for bad options; `DECODE_FAILED` when the bytes are not a
 *   PNG/JPEG, are corrupt or truncated, or the image is larger than `maxPixels`
 * @example
 * ```ts
 * const { pixels } = decodeImage(await readFile('digit.png'), { channels: 1, height: 28, width: 28 });
 * pixels.length; // 784
 * ```
 */
export function decodeImage(bytes: Uint8Array, options: DecodeImageOptions): DecodedImage {
  checkDataOptions(options, ['channels', 'height', 'width', 'maxPixels'], 'decodeImage options');
  const height = dim(options.height, 'height');
  const width = dim(options.width, 'width');
  const channels = options.channels;
  if (channels !== 1 && channels !== 3) {
    throw new DataError(
      'INVALID_OPTION',
      `decodeImage: channels ${String(channels)} is not valid (expected 1 or 3)`,
      { data: { path: 'channels', expected: [1, 3], actual: channels } },
    );
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof maxPixels !== 'number' || !Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new DataError(
      'INVALID_OPTION',
      `decodeImage: maxPixels ${String(maxPixels)} is not valid (expected a positive integer)`,
      { data: { path: 'maxPixels', expected: 'positive integer', actual: maxPixels } },
    );
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new DataError('INVALID_OPTION', 'decodeImage: bytes must be a Uint8Array', {
      data: { path: 'bytes', expected: 'Uint8Array' },
    });
  }
  const format = imageFormatOf(bytes);
  let img: RgbaImage;
  try {
    img = decodeRgba(bytes, maxPixels, 'bytes');
    if (img.width < 1 || img.height < 1) throw new Error(`decoded size ${img.width}x${img.height}`);
    if (img.width * img.height > maxPixels)
      throw new Error(
        `image of ${img.width}x${img.height} pixels exceeds the limit of ${maxPixels} pixels`,
      );
    if (img.rgba.length < img.width * img.height * 4)
      throw new Error(`decoded ${img.rgba.length} bytes for ${img.width}x${img.height} RGBA`);
  } catch (e) {
    const reason = describeError(e);
    throw new DataError('DECODE_FAILED', `decodeImage: cannot decode the image: ${reason}`, {
      cause: e,
      data: { expected: 'PNG or JPEG', ...(format ? { actual: format } : {}) },
    });
  }
  const pixels = new Uint8Array(height * width * channels);
  rgbaToResized(img.rgba, img.width, img.height, channels, height, width, pixels, 0);
  return {
    pixels,
    shape: [height, width, channels],
    format: format as 'png' | 'jpeg',
    original: { width: img.width, height: img.height },
  };
}
