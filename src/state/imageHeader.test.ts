import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../errors';
import { checkImageSize, MAX_IMAGE_SIDE, readImageHeader, gifFrameCount } from './imageHeader';

const MEDIA = process.env.MEDIA_DIR ?? resolve(import.meta.dirname, '../../../shared/media');

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  return out; // CRC left 0: the parser does not check it (the decoder does)
}
function png(width: number, height: number, { iend = true, idat = true } = {}): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      ...(idat ? [chunk('IDAT', deflateSync(Buffer.alloc(8)))] : []),
      ...(iend ? [chunk('IEND', Buffer.alloc(0))] : []),
    ]),
  );
}
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
  return 'no error';
};

describe('readImageHeader', () => {
  it('reads real PNG media', () => {
    const bytes = new Uint8Array(readFileSync(resolve(MEDIA, 'softsplat/one.png')));
    expect(readImageHeader(bytes)).toEqual({ format: 'png', width: 320, height: 320 });
    const sintel = new Uint8Array(readFileSync(resolve(MEDIA, 'sintel-raft/frame_0016.png')));
    expect(readImageHeader(sintel)).toEqual({ format: 'png', width: 1024, height: 436 });
  });

  it('reads PNG, JPEG, GIF, WebP and BMP headers', () => {
    expect(readImageHeader(png(30000, 20000))).toEqual({ format: 'png', width: 30000, height: 20000 });
    const jpeg = new Uint8Array([
      0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc2, 0, 11, 8, 0x01, 0x40, 0x02, 0x00, 1, 1, 0x11, 0, 0xff, 0xd9,
    ]);
    expect(readImageHeader(jpeg)).toEqual({ format: 'jpeg', width: 512, height: 320 });
    const gif = new Uint8Array([...Buffer.from('GIF89a'), 0x00, 0x02, 0x40, 0x01, 0, 0, 0]);
    expect(readImageHeader(gif)).toEqual({ format: 'gif', width: 512, height: 320 });
    const webpX = new Uint8Array(30);
    webpX.set(Buffer.from('RIFF'), 0);
    webpX[4] = 22;
    webpX.set(Buffer.from('WEBPVP8X'), 8);
    webpX.set([0xff, 0x01, 0x00, 0x3f, 0x01, 0x00], 24); // 512 - 1, 320 - 1 as 24-bit LE
    expect(readImageHeader(webpX)).toEqual({ format: 'webp', width: 512, height: 320 });
    const bmp = new Uint8Array(30);
    bmp.set(Buffer.from('BM'), 0);
    new DataView(bmp.buffer).setInt32(18, 640, true);
    new DataView(bmp.buffer).setInt32(22, -480, true); // top-down BMP
    expect(readImageHeader(bmp)).toEqual({ format: 'bmp', width: 640, height: 480 });
  });

  it('refuses empty, non-image, truncated and headerless files with the right codes', () => {
    expect(code(() => readImageHeader(new Uint8Array(0)))).toBe('image-empty');
    expect(code(() => readImageHeader(new TextEncoder().encode('<svg></svg>')))).toBe('image-decode');
    const full = png(64, 64);
    expect(code(() => readImageHeader(full.subarray(0, full.length - 6)))).toBe('image-decode');
    expect(code(() => readImageHeader(png(64, 64, { iend: false })))).toBe('image-decode');
    expect(code(() => readImageHeader(png(64, 64, { idat: false })))).toBe('image-decode');
    const jpegNoEoi = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 64, 0, 64, 1, 1, 0x11, 0, 1, 2, 3]);
    expect(code(() => readImageHeader(jpegNoEoi))).toBe('image-decode');
  });
});

describe('checkImageSize', () => {
  it('accepts up to the documented limits and refuses beyond', () => {
    expect(code(() => checkImageSize({ format: 'png', width: MAX_IMAGE_SIDE, height: 6000 }))).toBe('no error');
    expect(code(() => checkImageSize({ format: 'png', width: MAX_IMAGE_SIDE + 1, height: 10 }))).toBe('image-too-large');
    expect(code(() => checkImageSize({ format: 'png', width: 30000, height: 30000 }))).toBe('image-too-large');
    expect(code(() => checkImageSize({ format: 'png', width: 12000, height: 10000 }))).toBe('image-too-large'); // 120 MP
    expect(code(() => checkImageSize({ format: 'png', width: 0, height: 10 }))).toBe('image-decode');
  });
});

describe('animated images', () => {
  // 1 x 1 GIF89a frames written by hand from the GIF spec: graphic control, descriptor, LZW data.
  const frame = [0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00];
  const gif = (frames: number) =>
    new Uint8Array([
      0x47,
      0x49,
      0x46,
      0x38,
      0x39,
      0x61,
      1,
      0,
      1,
      0,
      0x80,
      0,
      0,
      0xff,
      0,
      0,
      0,
      0,
      0xff,
      ...Array.from({ length: frames }, () => frame).flat(),
      0x3b,
    ]);
  it('counts the frames of a GIF and marks two or more as animated', () => {
    expect(gifFrameCount(gif(1))).toBe(1);
    expect(gifFrameCount(gif(3))).toBe(3);
    expect(readImageHeader(gif(1)).animated ?? false).toBe(false);
    expect(readImageHeader(gif(2)).animated).toBe(true);
  });
  it('stops quietly on a cut-off GIF', () => {
    expect(gifFrameCount(gif(2).subarray(0, 19 + 23 + 12))).toBe(1);
  });
});
