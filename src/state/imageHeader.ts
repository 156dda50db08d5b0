/**
 * Reads an image's format and pixel size from its header bytes, BEFORE decoding, so a file
 * claiming 30000 x 30000 is refused without the browser allocating 3.6 GB for it; and checks
 * that PNG/JPEG files are complete (browsers happily decode a truncated file into a grey-filled
 * picture, which the user would then animate without noticing).
 *
 * Formats: PNG (IHDR), JPEG (first SOFn marker), GIF (logical screen), WebP (VP8 / VP8L / VP8X),
 * BMP (BITMAPINFOHEADER). Anything else is "not an image we can read".
 */
import { AppError } from '../errors';

/** Largest side we accept, pixels (WebGPU's maxTextureDimension2D on most desktop GPUs). */
export const MAX_IMAGE_SIDE = 16384;
/** Largest pixel count we accept (100 MP decodes to 400 MB of RGBA). */
export const MAX_IMAGE_PIXELS = 100_000_000;

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** More than one frame (animated GIF, APNG, animated WebP): only the first is used. */
  animated?: boolean;
}

function notAnImage(name: string): AppError {
  return new AppError('image-decode', `"${name}" is not an image this app can read. Use a PNG, JPEG, WebP, GIF or BMP file.`);
}
function corrupt(name: string, what: string): AppError {
  return new AppError(
    'image-decode',
    `"${name}" looks like an image but is damaged (${what}). Try exporting it again from the program that made it.`,
  );
}

const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u24le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const u32be = (b: Uint8Array, o: number) => ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
const i32le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

/** Parses the header of `bytes` (the whole file). Throws AppError 'image-empty' / 'image-decode'. */
export function readImageHeader(bytes: Uint8Array, name = 'file'): ImageHeader {
  if (bytes.length === 0) {
    throw new AppError('image-empty', `"${name}" is empty (0 bytes). Choose another file.`);
  }
  if (bytes.length >= 8 && u32be(bytes, 0) === 0x89504e47 && u32be(bytes, 4) === 0x0d0a1a0a) return readPng(bytes, name);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return readJpeg(bytes, name);
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) {
    if (bytes.length < 13) throw corrupt(name, 'the GIF header is cut off');
    return { format: 'gif', width: u16le(bytes, 6), height: u16le(bytes, 8), ...(gifFrameCount(bytes, 2) > 1 ? { animated: true } : {}) };
  }
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return readWebp(bytes, name);
  if (bytes.length >= 2 && ascii(bytes, 0, 2) === 'BM') {
    if (bytes.length < 26) throw corrupt(name, 'the BMP header is cut off');
    return { format: 'bmp', width: Math.abs(i32le(bytes, 18)), height: Math.abs(i32le(bytes, 22)) };
  }
  throw notAnImage(name);
}

/**
 * Counts a GIF's image descriptors (frames), stopping at `stopAt`; walks the block structure
 * (colour tables, extensions, LZW sub-blocks) and stops quietly where the bytes end.
 */
export function gifFrameCount(b: Uint8Array, stopAt = Infinity): number {
  let o = 13;
  if (b.length < 13) return 0;
  if (b[10] & 0x80) o += 3 * (1 << ((b[10] & 7) + 1));
  const skipSubBlocks = () => {
    while (o < b.length && b[o] !== 0) o += b[o] + 1;
    o++;
  };
  let frames = 0;
  while (o < b.length && frames < stopAt) {
    const tag = b[o];
    if (tag === 0x3b) break;
    if (tag === 0x21) {
      o += 2;
      skipSubBlocks();
    } else if (tag === 0x2c) {
      if (o + 10 > b.length) break;
      const packed = b[o + 9];
      o += 10;
      if (packed & 0x80) o += 3 * (1 << ((packed & 7) + 1));
      o++; // LZW minimum code size
      skipSubBlocks();
      frames++;
    } else break;
  }
  return frames;
}

/** PNG: IHDR must come first; every chunk must fit in the file, and IEND must be present. */
function readPng(b: Uint8Array, name: string): ImageHeader {
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') throw corrupt(name, 'the PNG header is cut off');
  const header: ImageHeader = { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  let o = 8;
  let sawData = false;
  for (;;) {
    if (o + 12 > b.length) throw corrupt(name, 'the PNG file is truncated');
    const len = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    if (o + 12 + len > b.length) throw corrupt(name, 'the PNG file is truncated');
    if (type === 'IDAT') sawData = true;
    if (type === 'acTL' && !sawData) header.animated = true; // APNG: animation control before the image data
    if (type === 'IEND') break;
    o += 12 + len;
  }
  if (!sawData) throw corrupt(name, 'the PNG file has no image data');
  return header;
}

/** JPEG: walk the marker segments to the first SOFn; the file must end with EOI (FFD9). */
function readJpeg(b: Uint8Array, name: string): ImageHeader {
  let o = 2;
  let header: ImageHeader | null = null;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) throw corrupt(name, 'a JPEG marker is broken');
    const marker = b[o + 1];
    if (marker === 0xff) {
      o += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += 2;
      continue;
    }
    const len = u16be(b, o + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (o + 9 > b.length) break;
      header = { format: 'jpeg', height: u16be(b, o + 5), width: u16be(b, o + 7) };
      break;
    }
    if (marker === 0xda) break; // start of scan before any SOF
    o += 2 + len;
  }
  if (!header) throw corrupt(name, 'no JPEG frame header was found');
  // The entropy-coded data follows; a complete file ends with EOI (allow a little trailing junk).
  let end = false;
  for (let i = b.length - 2; i >= Math.max(0, b.length - 64); i--) {
    if (b[i] === 0xff && b[i + 1] === 0xd9) {
      end = true;
      break;
    }
  }
  if (!end) throw corrupt(name, 'the JPEG file is truncated');
  return header;
}

function readWebp(b: Uint8Array, name: string): ImageHeader {
  if (b.length < 30) throw corrupt(name, 'the WebP header is cut off');
  const riffSize = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
  if (riffSize + 8 > b.length) throw corrupt(name, 'the WebP file is truncated');
  const chunk = ascii(b, 12, 4);
  // VP8X flags: bit 1 = animation.
  if (chunk === 'VP8X')
    return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, ...(b[20] & 0x02 ? { animated: true } : {}) };
  if (chunk === 'VP8 ') return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  throw corrupt(name, 'unknown WebP chunk');
}

/** Refuses sizes above MAX_IMAGE_SIDE / MAX_IMAGE_PIXELS, and zero sizes. */
export function checkImageSize(h: ImageHeader, name = 'file'): void {
  if (h.width === 0 || h.height === 0) throw corrupt(name, `its header says ${h.width} x ${h.height} pixels`);
  if (h.width > MAX_IMAGE_SIDE || h.height > MAX_IMAGE_SIDE || h.width * h.height > MAX_IMAGE_PIXELS) {
    throw new AppError(
      'image-too-large',
      `"${name}" is ${h.width} x ${h.height} pixels; the limit is ${MAX_IMAGE_SIDE} pixels per side and ` +
        `${MAX_IMAGE_PIXELS / 1e6} megapixels. Scale it down first (the video is at most 512 pixels wide anyway).`,
    );
  }
}
