/**
 * Bad input: each case must show a clear message (matched by its error code) and leave the
 * current project exactly as it was (image, trajectories, everything).
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { mediaPath } from '../fixtures';
import { canvasBox, clickAt, loadImage, openApp, project } from './editor-helpers';

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** A well-formed PNG whose header claims width x height, with a tiny (valid zlib) IDAT. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
/** A JPEG whose frame header (SOF0) claims width x height. */
function jpegClaiming(width: number, height: number): Buffer {
  const sof = Buffer.from([
    0xff,
    0xc0,
    0,
    17,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

const onePng = () => readFileSync(mediaPath('softsplat/one.png'));

/** one.png with bytes inside its first IDAT payload overwritten (structure intact, data and CRC wrong). */
function corruptPng(): Buffer {
  const b = Buffer.from(onePng());
  const at = b.indexOf('IDAT') + 4;
  for (let i = 0; i < 400; i++) b[at + 200 + i] = (i * 37) & 0xff;
  return b;
}

const projectFile = (over: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ format: 'motion-i2v-web/project', version: 1, savedAt: '2026-01-01T00:00:00Z', image: null, ...over }));

const emptyDoc = {
  version: 1,
  image: null,
  canvas: { width: 512, height: 320 },
  crop: null,
  trajectories: [],
  brush: [],
  settings: { flowUnit: 64, frames: 16, fps: 8, prompt: '', negativePrompt: '', seed: 42, steps: 25, guidance: 7, loop: false },
};

interface Case {
  name: string;
  input: 'image-input' | 'project-input';
  file: () => { name: string; mimeType: string; buffer: Buffer };
  code: string;
  text: RegExp;
}

const cases: Case[] = [
  {
    name: 'a text file named .png',
    input: 'image-input',
    file: () => ({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('hello, this is not an image\n') }),
    code: 'image-decode',
    text: /not an image/,
  },
  {
    name: 'a truncated PNG',
    input: 'image-input',
    file: () => ({ name: 'half.png', mimeType: 'image/png', buffer: onePng().subarray(0, Math.floor(onePng().length * 0.6)) }),
    code: 'image-decode',
    text: /truncated/,
  },
  {
    name: 'a corrupt PNG (damaged image data)',
    input: 'image-input',
    file: () => ({ name: 'corrupt.png', mimeType: 'image/png', buffer: corruptPng() }),
    code: 'image-decode',
    text: /damaged/,
  },
  {
    name: 'a 0-byte file',
    input: 'image-input',
    file: () => ({ name: 'empty.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) }),
    code: 'image-empty',
    text: /empty/,
  },
  {
    name: 'a PNG claiming 30000x30000',
    input: 'image-input',
    file: () => ({ name: 'huge.png', mimeType: 'image/png', buffer: pngClaiming(30000, 30000) }),
    code: 'image-too-large',
    text: /30000 x 30000/,
  },
  {
    name: 'a JPEG claiming 30000x30000',
    input: 'image-input',
    file: () => ({ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: jpegClaiming(30000, 30000) }),
    code: 'image-too-large',
    text: /16384/,
  },
  {
    name: 'a project file that is not JSON',
    input: 'project-input',
    file: () => ({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "motion-i2v-web/proj') }),
    code: 'project-file',
    text: /not valid JSON/,
  },
  {
    name: 'a project file with a malformed document',
    input: 'project-input',
    file: () => ({
      name: 'bad.json',
      mimeType: 'application/json',
      buffer: projectFile({ project: { ...emptyDoc, trajectories: [{ id: 'a', points: 'nope' }] } }),
    }),
    code: 'project-file',
    text: /damaged or not a project: trajectory 1, /,
  },
  {
    name: 'a project file from a future version',
    input: 'project-input',
    file: () => ({
      name: 'future.json',
      mimeType: 'application/json',
      buffer: projectFile({ version: 7, project: { ...emptyDoc, version: 7 } }),
    }),
    code: 'project-version',
    text: /newer version/,
  },
  {
    name: 'a project document from a future version',
    input: 'project-input',
    file: () => ({ name: 'future-doc.json', mimeType: 'application/json', buffer: projectFile({ project: { ...emptyDoc, version: 3 } }) }),
    code: 'project-version',
    text: /newer version/,
  },
];

// Independent cases: let both workers take them.
test.describe.configure({ mode: 'parallel' });

for (const c of cases) {
  test(`refuses ${c.name} with a clear message and keeps the project`, async ({ page }) => {
    await openApp(page);
    await loadImage(page, mediaPath('softsplat/one.png'));
    const b = await canvasBox(page);
    await clickAt(page, b, 200, 150);
    await clickAt(page, b, 260, 170);
    await page.keyboard.press('Enter');
    const before = await project(page);
    expect(before.trajectories).toHaveLength(1);

    await page.getByTestId(c.input).setInputFiles(c.file());
    const banner = page.getByTestId('error-banner');
    await expect(banner).toHaveAttribute('data-code', c.code);
    await expect(banner).toContainText(c.text);
    expect(await project(page)).toEqual(before);
    // Still editable afterwards.
    await clickAt(page, b, 300, 100);
    expect((await project(page)).trajectories).toHaveLength(2);
  });
}
