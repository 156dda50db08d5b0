/**
 * A model pack whose parts do not fit together is refused with a message in words: the tiny
 * pack passes as exported, and hand-made breakages of its manifest (a plan naming an input its
 * segment lacks, projected tokens or an attention output of another size, another frame count) or of its files (a segment's
 * file swapped for another's, a manifest renaming an input the file keeps) are each refused,
 * naming the part, the tensor and the file, with no shape list in the message.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, type Manifest, type MotionAttentionPlanStep, type OnnxPlanStep } from './manifest';
import { checkPackFiles, PackMismatchError } from './packCheck';

const BASE = resolve(import.meta.dirname, '../../public/models/tiny');
const text = readFileSync(`${BASE}/manifest.json`, 'utf8');
const raw = () => JSON.parse(text) as Manifest;
const fromDisk = async (path: string) => new Blob([readFileSync(`${BASE}/${path}`)]);

/** parseManifest's refusal (its message), or null when it accepts. */
function refusal(m: Manifest): PackMismatchError {
  try {
    parseManifest(JSON.stringify(m));
  } catch (e) {
    expect(e).toBeInstanceOf(PackMismatchError);
    const err = e as PackMismatchError;
    expect(err.code).toBe('model-pack');
    expect(err.reason).toBe('mismatch');
    expect(err.message).not.toMatch(/\[\s*\w+,/); // no shape list on the page
    expect(err.message).toMatch(/^The model pack "motion-i2v-tiny" cannot be used: .*Your project is not affected\.$/);
    return err;
  }
  throw new Error('the broken manifest was accepted');
}

const onnxStep = (m: Manifest, segment: number) =>
  m.components.stage2_unet!.plan.find((s): s is OnnxPlanStep => s.kind === 'onnx' && s.segment === segment)!;
const attention = (m: Manifest, k: number) =>
  m.components.stage2_unet!.plan.filter((s): s is MotionAttentionPlanStep => s.kind === 'motion_attention')[k];

describe('the stage-2 plan against its segments (parseManifest)', () => {
  it('accepts the tiny pack as exported', () => {
    expect(() => parseManifest(text)).not.toThrow();
  });

  it('refuses a plan that gives a segment an input it does not take', () => {
    const m = raw();
    const step = onnxStep(m, 1);
    step.inputs = step.inputs.map((n) => (n === 'x_0' ? 'x_00' : n));
    expect(refusal(m).message).toMatch(/reads "x_00" before any step writes it/);
    const m2 = raw();
    onnxStep(m2, 1).inputs.push('emb_0');
    expect(refusal(m2).message).toMatch(
      /gives part 2 of 15 of the video model \(stage-2 UNet\) an input "emb_0" that this part does not take/,
    );
  });

  it('refuses a plan whose segment lacks an output the plan expects', () => {
    const m = raw();
    m.components.stage2_unet!.segments[1].outputs = m.components.stage2_unet!.segments[1].outputs.filter((t) => t.name !== 'qkv_1');
    expect(refusal(m).message).toMatch(/expects an output "qkv_1" that part 2 of 15 of the video model \(stage-2 UNet\) does not make/);
  });

  it('refuses projected tokens of another size than the attention works at, and an attention output its reader cannot take', () => {
    const m = raw();
    attention(m, 0).channels = 32;
    attention(m, 0).heads = 4;
    const e = refusal(m);
    expect(e.message).toMatch(/reads "qkv_0" of another size than the motion attention works at/);
    expect(e.detail).toContain('96');
    const m2 = raw();
    const aIn = m2.components.stage2_unet!.segments[1].inputs.find((t) => t.name === 'attn_0')!;
    aIn.shape = ['batch_frames', 4, 6, 48]; // 3C (qkv) instead of C
    expect(refusal(m2).message).toMatch(
      /gives part 2 of 15 of the video model \(stage-2 UNet\) the attention output "attn_0" of another size/,
    );
    const m3 = raw();
    const pe = m3.components.stage2_unet!.segments[0].outputs.find((t) => t.name === 'pe_0')!;
    pe.shape = [4, 48]; // F rows instead of 2F - 1
    expect(refusal(m3).message).toMatch(/reads "pe_0" of another size than the motion attention works at/);
  });

  it('refuses a tensor handed on with another size than it was written with', () => {
    const m = raw();
    const x0 = m.components.stage2_unet!.segments[1].inputs.find((t) => t.name === 'x_0')!;
    x0.shape = ['batch_frames', 4, 6, 24];
    expect(refusal(m).message).toMatch(/hands "x_0" to part 2 of 15 of the video model \(stage-2 UNet\) with another size/);
  });

  it('refuses an attention over another number of frames than the pack makes', () => {
    const m = raw();
    attention(m, 3).frames = 16;
    expect(refusal(m).message).toMatch(/warps 16 frames, but the pack makes 4-frame videos/);
  });
});

describe('the ONNX files against the manifest (checkPackFiles)', () => {
  it('accepts every variant of the tiny pack', async () => {
    const m = parseManifest(text);
    for (const v of m.precisions) await expect(checkPackFiles(m, v, fromDisk)).resolves.toBeUndefined();
  });

  it("refuses a segment whose file is another segment's", async () => {
    const m = parseManifest(text);
    const swapped = (path: string) => fromDisk(path === 'stage2_unet.seg01.onnx' ? 'stage2_unet.seg02.onnx' : path);
    const e = await checkPackFiles(m, 'fp32', swapped).catch((x) => x);
    expect(e).toBeInstanceOf(PackMismatchError);
    expect(e.path).toBe('stage2_unet.seg01.onnx');
    expect(e.message).toMatch(
      /^The model pack "motion-i2v-tiny" cannot be used: the manifest says part 2 of 15 of the video model \(stage-2 UNet\) takes "attn_0", but its file stage2_unet.seg01.onnx has no such input\./,
    );
  });

  it('refuses a manifest that renames a tensor everywhere while the files keep the old name', async () => {
    // qkv_3 is written by segment 3 and read by a motion attention: renamed throughout, the plan is consistent in itself
    const forged = text.replaceAll('"qkv_3"', '"renamed"');
    expect(forged).not.toBe(text);
    const parsed = parseManifest(forged);
    const e = await checkPackFiles(parsed, 'q8', fromDisk).catch((x) => x);
    expect(e).toBeInstanceOf(PackMismatchError);
    expect(e.message).toMatch(
      /the manifest says part 4 of 15 of the video model \(stage-2 UNet\) makes "renamed", but its file stage2_unet\.seg03\.q8\.onnx has no such output/,
    );
  });
});
