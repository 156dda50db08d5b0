import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Manifest, SegmentedComponentSpec } from '../../models/manifest';
import { readMi2g } from '../../../e2e/reference/mi2g';
import { checkPlan, frame0Source, lastReaders } from './plan';
import { stage1Noise } from './noise';
import { nearestMask, stage2Noise } from './stage2';

const tiny = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../public/models/tiny/manifest.json'), 'utf8')) as Manifest;
const spec = tiny.components.stage2_unet!;
const clone = (): SegmentedComponentSpec => JSON.parse(JSON.stringify(spec));

describe('stage-2 plan', () => {
  it('the tiny pack plan is consistent: 15 segments, 14 motion attentions', () => {
    expect(() => checkPlan(spec)).not.toThrow();
    expect(spec.plan.filter((s) => s.kind === 'onnx').length).toBe(15);
    expect(spec.plan.filter((s) => s.kind === 'motion_attention').length).toBe(14);
  });

  it('gives every name its last reader: emb_0 lives until the last segment that reads it, qkv_k and attn_k only until the next step', () => {
    const last = lastReaders(spec.plan);
    const reads = (s: (typeof spec.plan)[number]) => (s.kind === 'onnx' ? s.inputs : [s.qkv, s.frame0_kv, s.pe]);
    const readers = (n: string) => spec.plan.flatMap((s, i) => (reads(s).includes(n) ? [i] : []));
    for (const [name, i] of last) expect(i, name).toBe(Math.max(...readers(name)));
    const att = spec.plan.findIndex((s) => s.kind === 'motion_attention' && s.output === 'attn_0');
    expect(att).toBeGreaterThan(0);
    for (const n of ['qkv_0', 'kv0_0', 'pe_0']) expect(last.get(n), n).toBe(att);
    expect(last.get('attn_0')).toBe(att + 1);
    expect(last.has('warped_0')).toBe(false);
    expect(last.get('emb_0')).toBeGreaterThan(last.get('attn_0')!);
    expect(last.has('noise_pred')).toBe(false);
  });

  it('refuses a plan that reads a name before it is written, reuses a segment, or misses noise_pred', () => {
    const a = clone();
    [a.plan[0], a.plan[1]] = [a.plan[1], a.plan[0]];
    expect(() => checkPlan(a)).toThrow(/reads "qkv_0" before any step writes it/);
    const b = clone();
    b.plan.push(b.plan[0]);
    expect(() => checkPlan(b)).toThrow(/runs part 1 of 15 of the video model \(stage-2 UNet\) twice/);
    const c = clone();
    c.plan.pop();
    expect(() => checkPlan(c)).toThrow(/never writes the prediction "noise_pred"/);
    const e = clone();
    const m = e.plan.find((s) => s.kind === 'motion_attention')!;
    if (m.kind === 'motion_attention') m.channels *= 2;
    expect(() => checkPlan(e)).toThrow(/reads "qkv_0" of another size than the motion attention works at/);
    const f = clone();
    const m2 = f.plan.find((s) => s.kind === 'motion_attention')!;
    if (m2.kind === 'motion_attention') (m2 as { frame0_batch: string }).frame0_batch = 'other';
    expect(() => checkPlan(f)).toThrow(/takes frame 0 from the batch entries in a way this app does not know/);
    const d = clone();
    d.segments[1].outputs = d.segments[1].outputs.slice(1);
    expect(() => checkPlan(d)).toThrow(/expects an output "x_1" that part 2 of 15 of the video model \(stage-2 UNet\) does not make/);
  });
});

describe('frame0Source', () => {
  it("accepts a plan with the authors' frame-0 batch mixing", () => {
    const q = clone();
    for (const s of q.plan) if (s.kind === 'motion_attention') s.frame0_batch = 'reference_quirk';
    expect(() => checkPlan(q)).not.toThrow();
  });

  it("maps (entry, flow) as the reference's repeat over B (F-1) rows (the quirk golden's table, B = 2, F = 4)", () => {
    const file = readFileSync(resolve(import.meta.dirname, '../../../public/models/tiny/goldens/stage2_unet.quirk.bin'));
    const g = readMi2g(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer, 'quirk');
    const table = g.meta.frame0_source as number[][];
    expect(table).toEqual([
      [0, 1, 0],
      [1, 0, 1],
    ]);
    expect(table.map((row, b) => row.map((_, j) => frame0Source(b, j, 2, 4, 'reference_quirk')))).toEqual(table);
    expect(table.map((row, b) => row.map((_, j) => frame0Source(b, j, 2, 4, 'same')))).toEqual([
      [0, 0, 0],
      [1, 1, 1],
    ]);
  });

  it('at full size (B = 2, F = 16) the entries alternate, each entry starting from its own; batch 1 never mixes', () => {
    // torch.arange(B * (F - 1)) % B, reshaped (B, F - 1): row b starts at b * 15
    for (let b = 0; b < 2; b++) for (let j = 0; j < 15; j++) expect(frame0Source(b, j, 2, 16, 'reference_quirk')).toBe((b * 15 + j) % 2);
    expect(frame0Source(1, 0, 2, 16, 'reference_quirk')).toBe(1);
    expect(frame0Source(1, 1, 2, 16, 'reference_quirk')).toBe(0);
    for (let j = 0; j < 15; j++) expect(frame0Source(0, j, 1, 16, 'reference_quirk')).toBe(0);
  });
});

describe('nearestMask', () => {
  it('samples floor(dst * in / out) like PyTorch nearest', () => {
    // 4x4 -> 2x2 takes rows/cols 0 and 2
    const m = Float32Array.from({ length: 16 }, (_, i) => i);
    expect([...nearestMask(m, 4, 4, 2, 2)]).toEqual([0, 2, 8, 10]);
    // 3 -> 2 takes 0 and 1 (floor(1 * 3 / 2) = 1)
    expect([...nearestMask(Float32Array.from([0, 1, 2]), 1, 3, 1, 2)]).toEqual([0, 1]);
  });
});

describe('stage2Noise', () => {
  it('is a function of the seed, and another stream than stage 1 for the same seed', () => {
    const shape = { frames: 8, height: 6, width: 8 };
    const a = stage2Noise(3, shape);
    expect(a.noise.length).toBe(4 * 8 * 6 * 8);
    expect(a.imageEps.length).toBe(4 * 6 * 8);
    expect(stage2Noise(3, shape).noise).toEqual(a.noise);
    expect(stage2Noise(4, shape).noise[0]).not.toBe(a.noise[0]);
    expect(stage1Noise(3, { frames: 7, height: 6, width: 8 }).noise[0]).not.toBe(a.noise[0]);
  });
});
