#!/usr/bin/env node
/**
 * Draws the bundled sample pictures procedurally (our own, no licence questions) and writes
 * them as PNG into public/samples/. Run: node tools/samples/make-samples.mjs
 * Pure Node (zlib for the PNG's deflate); 2x2 supersampling for smooth edges.
 */
import { deflateSync } from 'node:zlib';
import { writeFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

const OUT = resolve(import.meta.dirname, '../../public/samples');

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** 8-bit RGB PNG; every row uses the Sub filter (compresses smooth gradients well). */
function encodePng(width, height, rgb) {
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const o = y * (1 + width * 3);
    raw[o] = 1; // Sub
    for (let x = 0; x < width * 3; x++) {
      const v = rgb[y * width * 3 + x];
      const left = x >= 3 ? rgb[y * width * 3 + x - 3] : 0;
      raw[o + 1 + x] = (v - left) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);
const clamp01 = (t) => Math.min(1, Math.max(0, t));
const smooth = (e0, e1, x) => {
  const t = clamp01((x - e0) / (e1 - e0));
  return t * t * (3 - 2 * t);
};

/** Renders shade(u, v) -> [r, g, b] (0..255), u and v in [0, 1), with 2x2 supersampling. */
function render(width, height, shade) {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const acc = [0, 0, 0];
      for (const [dx, dy] of [
        [0.25, 0.25],
        [0.75, 0.25],
        [0.25, 0.75],
        [0.75, 0.75],
      ]) {
        const c = shade((x + dx) / width, (y + dy) / height);
        acc[0] += c[0];
        acc[1] += c[1];
        acc[2] += c[2];
      }
      for (let k = 0; k < 3; k++) rgb[(y * width + x) * 3 + k] = Math.round(Math.min(255, Math.max(0, acc[k] / 4)));
    }
  }
  return rgb;
}

// Sunset over a lake with mountains and the sun reflected in rippling water.
function lake(u, v) {
  const aspect = 640 / 400;
  const horizon = 0.6;
  const sun = { x: 0.62, y: 0.46, r: 0.075 };
  const ridge = horizon - 0.1 - 0.06 * Math.sin(u * 9 + 1) - 0.035 * Math.sin(u * 23 + 2) - 0.02 * Math.sin(u * 51);
  const ridge2 = horizon - 0.04 - 0.03 * Math.sin(u * 13 + 4) - 0.015 * Math.sin(u * 37 + 1);
  const skyAt = (vv) => {
    const top = [38, 32, 92],
      mid = [220, 92, 90],
      low = [255, 186, 96];
    return vv < 0.35 ? mix(top, mid, vv / 0.35) : mix(mid, low, clamp01((vv - 0.35) / (horizon - 0.35)));
  };
  const sunAt = (uu, vv) => {
    const d = Math.hypot((uu - sun.x) * aspect, vv - sun.y);
    return { core: 1 - smooth(sun.r - 0.004, sun.r + 0.004, d), glow: Math.exp(-d * 9) * 0.5 };
  };
  if (v < horizon) {
    let c = skyAt(v);
    const s = sunAt(u, v);
    c = mix(c, [255, 236, 170], s.glow);
    c = mix(c, [255, 246, 214], s.core);
    if (v > ridge) c = mix([70, 40, 80], [40, 26, 60], smooth(ridge, horizon, v));
    if (v > ridge2) c = [30, 22, 48];
    return c;
  }
  // Water: mirrored sky with horizontal ripples.
  const depth = v - horizon;
  const ripple = 0.006 * Math.sin(v * 420 + Math.sin(u * 17) * 3) * (0.3 + depth * 3);
  const mv = horizon - depth * 1.4;
  let c = skyAt(Math.max(0, mv));
  const s = sunAt(u + ripple * 4, mv);
  c = mix(c, [255, 236, 170], s.glow * 0.8);
  c = mix(c, [255, 240, 200], s.core * (0.6 + 0.4 * Math.sin(v * 300 + u * 40) ** 2));
  c = mix(c, [20, 16, 50], 0.35 + depth * 0.9);
  return c;
}

// A striped hot-air balloon against a blue sky with soft clouds and green hills.
function balloon(u, v) {
  const aspect = 512 / 320;
  let c = mix([70, 140, 230], [180, 220, 250], v);
  const clouds = [
    [0.2, 0.25, 0.12],
    [0.3, 0.22, 0.08],
    [0.75, 0.18, 0.1],
    [0.85, 0.2, 0.07],
    [0.55, 0.62, 0.09],
  ];
  for (const [cx, cy, r] of clouds) {
    const d = Math.hypot((u - cx) * aspect * 0.6, (v - cy) * 1.6);
    c = mix(c, [250, 252, 255], (1 - smooth(r * 0.7, r, d)) * 0.9);
  }
  const hill = 0.78 + 0.06 * Math.sin(u * 7 + 0.5) + 0.03 * Math.sin(u * 19);
  if (v > hill) c = mix([90, 170, 80], [50, 120, 50], smooth(hill, 1, v));
  const hill2 = 0.86 + 0.05 * Math.sin(u * 5 + 2.2);
  if (v > hill2) c = mix([60, 140, 60], [35, 95, 40], smooth(hill2, 1, v));
  // Balloon envelope: an egg shape.
  const bx = 0.42,
    by = 0.36;
  const dx = (u - bx) * aspect,
    dy = v - by;
  const ry = dy < 0 ? 0.21 : Math.max(0.04, 0.21 - dy * 0.55);
  const e = (dx / ry) ** 2 + (dy / 0.24) ** 2;
  if (e < 1) {
    const stripe = Math.floor((Math.atan2(dx, 0.25 - Math.abs(dy) * 0.5) + Math.PI) / (Math.PI / 9)) % 3;
    const cols = [
      [230, 60, 60],
      [250, 210, 70],
      [60, 110, 220],
    ];
    c = mix(cols[stripe], [255, 255, 255], 0.25 * (1 - e) * (dx < 0 ? 1 : 0.2));
    c = mix(c, [0, 0, 0], 0.25 * smooth(0.6, 1, e));
  }
  // Ropes and basket.
  const basketTop = by + 0.3;
  if (v > by + 0.2 && v < basketTop && Math.abs(Math.abs(dx) - 0.04 * (1 - (v - by - 0.2) / 0.1) - 0.03) < 0.003) c = [60, 40, 30];
  if (v >= basketTop && v < basketTop + 0.05 && Math.abs(dx) < 0.035) c = mix([140, 90, 50], [100, 60, 35], (v - basketTop) / 0.05);
  return c;
}

// A red-and-white lighthouse on rocks above the sea (portrait).
function lighthouse(u, v) {
  const aspect = 320 / 512;
  let c = mix([120, 170, 225], [235, 225, 205], v / 0.6);
  const sea = 0.62;
  if (v > sea) c = mix([40, 110, 160], [20, 60, 110], smooth(sea, 1, v));
  if (v > sea && Math.sin(v * 260 + Math.sin(u * 30) * 2) > 0.93) c = mix(c, [220, 240, 250], 0.7);
  // Rocks.
  const rock = 0.7 - 0.08 * Math.exp(-(((u - 0.5) / 0.25) ** 2)) - 0.02 * Math.sin(u * 40);
  if (v > rock && u > 0.2 && u < 0.85) c = mix([90, 80, 75], [50, 45, 45], smooth(rock, 0.85, v) + 0.2 * Math.sin(u * 60 + v * 30) ** 2);
  // Tower: a tapered column with red bands.
  const top = 0.2,
    base = 0.64;
  if (v > top && v < base) {
    const t = (v - top) / (base - top);
    const half = 0.07 + 0.04 * t;
    if (Math.abs(u - 0.5) < half) {
      const band = Math.floor(t * 6) % 2;
      c = band ? [210, 45, 45] : [245, 242, 236];
      c = mix(c, [0, 0, 0], 0.3 * smooth(0, half, u - 0.5 + half * 0.2));
    }
  }
  // Lantern and roof.
  if (v > 0.15 && v <= top && Math.abs(u - 0.5) < 0.06) c = mix([255, 230, 140], [255, 250, 220], 1 - Math.abs(u - 0.5) / 0.06);
  if (v > 0.1 && v <= 0.15 && Math.abs(u - 0.5) < (0.08 * (v - 0.1)) / 0.05) c = [60, 50, 50];
  // Light beam.
  const beam = Math.abs(v - 0.175 - (u - 0.5) * 0.25 * aspect);
  if (u > 0.55 && beam < 0.03 * (u - 0.5) * 3) c = mix(c, [255, 245, 200], 0.35);
  return c;
}

mkdirSync(OUT, { recursive: true });
for (const [name, w, h, fn] of [
  ['lake.png', 640, 400, lake],
  ['balloon.png', 512, 320, balloon],
  ['lighthouse.png', 320, 512, lighthouse],
]) {
  const png = encodePng(w, h, render(w, h, fn));
  writeFileSync(resolve(OUT, name), png);
  console.log(`${name}: ${w}x${h}, ${(png.length / 1024).toFixed(0)} KB`);
}
