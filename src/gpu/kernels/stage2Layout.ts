/**
 * Layout and scaling steps of stage 2 between ONNX sessions (shaders/stage2_layout.wgsl): the
 * image to [-1, 1] for the SD VAE, selective noising (frame 0 = clean reference latent), the
 * brush blend of latents in static areas, the decoded frames to [0, 1], and the video packed to
 * RGBA8 (resized to the project's canvas when it differs from the pack's). No weights.
 */
import source from '../../../shaders/stage2_layout.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkTensor, createTensor, type GpuTensor } from '../tensor';
import { shaderModule } from './common';

const KERNEL = 'Stage2Layout';
const WG = 64;
const ENTRIES = ['to_signed', 'set_frame0', 'brush_blend', 'video_frame', 'pack_rgba'] as const;
type Entry = (typeof ENTRIES)[number];

interface Dims {
  F?: number;
  P?: number;
  f?: number;
  H?: number;
  W?: number;
  Ho?: number;
  Wo?: number;
  scale?: number;
  sa?: number;
  sb?: number;
}

export class Stage2LayoutKernels {
  private readonly pipelines = new Map<Entry, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {
    const module = shaderModule(device, 'stage-2 layout', source);
    for (const e of ENTRIES) {
      this.pipelines.set(
        e,
        device.createComputePipeline({ label: `stage-2 ${e}`, layout: 'auto', compute: { module, entryPoint: e, constants: { WG } } }),
      );
    }
  }

  private dispatch(encoder: GPUCommandEncoder, entry: Entry, total: number, d: Dims, bindings: [number, GpuTensor][]): void {
    const groups = Math.ceil(total / WG);
    const gx = Math.max(1, Math.min(groups, this.device.limits.maxComputeWorkgroupsPerDimension));
    const gy = Math.max(1, Math.ceil(groups / gx));
    const params = new ArrayBuffer(48);
    new Uint32Array(params).set([total, gx * WG, d.F ?? 0, d.P ?? 0, d.f ?? 0, d.H ?? 0, d.W ?? 0, d.Ho ?? 0, d.Wo ?? 0]);
    new Float32Array(params).set([d.scale ?? 1, d.sa ?? 0, d.sb ?? 0], 9);
    const uniform = this.device.createBuffer({
      size: 48,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: `stage-2 ${entry} params`,
    });
    this.device.queue.writeBuffer(uniform, 0, params);
    const pipeline = this.pipelines.get(entry)!;
    const pass = encoder.beginComputePass({ label: `stage-2 ${entry}` });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: uniform } },
          ...bindings.map(([binding, t]) => ({ binding, resource: { buffer: t.buffer, size: byteSize(t) } })),
        ],
      }),
    );
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
  }

  /** [1, 3, H, W] in [0, 1] -> the same in [-1, 1] (x * 2 - 1). */
  toSigned(encoder: GPUCommandEncoder, image01: GpuTensor): GpuTensor {
    checkTensor(KERNEL, 'image01', image01, { rank: 4, dtype: 'float32', shape: [1, 3, undefined, undefined] });
    const out = createTensor(this.device, image01.shape, 'float32', 'image [-1,1]');
    this.dispatch(encoder, 'to_signed', 3 * image01.shape[2] * image01.shape[3], {}, [
      [1, image01],
      [2, out],
    ]);
    return out;
  }

  /** latents [1, 4, F, h, w]: frame 0 = refLatent [1, 4, h, w] * scale, in place. */
  setFrame0(encoder: GPUCommandEncoder, a: { latents: GpuTensor; refLatent: GpuTensor; scale: number }): void {
    const { F, P } = this.latentDims(a.latents, a.refLatent);
    this.dispatch(encoder, 'set_frame0', 4 * P, { F, P, scale: a.scale }, [
      [3, a.refLatent],
      [4, a.latents],
    ]);
  }

  /**
   * latents = (sqrt(alphaBarNext) * ref * scale + sqrt(1 - alphaBarNext) * noise) * m + latents * (1 - m),
   * m = still [h, w] (1 = static), in place over every frame.
   */
  brushBlend(
    encoder: GPUCommandEncoder,
    a: { latents: GpuTensor; refLatent: GpuTensor; noise: GpuTensor; still: GpuTensor; scale: number; alphaBarNext: number },
  ): void {
    const { F, P } = this.latentDims(a.latents, a.refLatent);
    checkTensor(KERNEL, 'noise', a.noise, { dtype: 'float32', shape: a.latents.shape });
    checkTensor(KERNEL, 'still', a.still, { dtype: 'float32', shape: [a.latents.shape[3], a.latents.shape[4]] });
    if (!(a.alphaBarNext > 0 && a.alphaBarNext <= 1))
      throw new KernelInputError(KERNEL, 'alphaBarNext', `must be in (0, 1], got ${a.alphaBarNext}`);
    const sa = Math.sqrt(a.alphaBarNext);
    const sb = Math.sqrt(1 - a.alphaBarNext);
    this.dispatch(encoder, 'brush_blend', 4 * F * P, { F, P, scale: a.scale, sa, sb }, [
      [3, a.refLatent],
      [5, a.noise],
      [6, a.still],
      [4, a.latents],
    ]);
  }

  /** video [F, 3, H, W] frame f = clamp(decoded [1, 3, H, W] / 2 + 0.5, 0, 1). */
  videoFrame(encoder: GPUCommandEncoder, a: { decoded: GpuTensor; video: GpuTensor; frame: number }): void {
    checkTensor(KERNEL, 'video', a.video, { rank: 4, dtype: 'float32', shape: [undefined, 3, undefined, undefined] });
    const [F, , H, W] = a.video.shape;
    checkTensor(KERNEL, 'decoded', a.decoded, { dtype: 'float32', shape: [1, 3, H, W] });
    if (!Number.isInteger(a.frame) || a.frame < 0 || a.frame >= F)
      throw new KernelInputError(KERNEL, 'frame', `must be in 0..${F - 1}, got ${a.frame}`);
    this.dispatch(encoder, 'video_frame', 3 * H * W, { F, P: H * W, f: a.frame }, [
      [7, a.decoded],
      [8, a.video],
    ]);
  }

  /** video [F, 3, H, W] in [0, 1] -> packed RGBA8 u32 [F, height, width] (bilinear when the size differs). */
  packRgba(encoder: GPUCommandEncoder, video: GpuTensor, height: number, width: number): GpuTensor {
    checkTensor(KERNEL, 'video', video, { rank: 4, dtype: 'float32', shape: [undefined, 3, undefined, undefined] });
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1)
      throw new KernelInputError(KERNEL, 'size', `must be positive integers, got ${width}x${height}`);
    const [F, , H, W] = video.shape;
    const out = createTensor(this.device, [F, height, width], 'uint32', 'stage-2 frames');
    this.dispatch(encoder, 'pack_rgba', F * height * width, { F, H, W, Ho: height, Wo: width }, [
      [9, video],
      [10, out],
    ]);
    return out;
  }

  private latentDims(latents: GpuTensor, refLatent: GpuTensor): { F: number; P: number } {
    checkTensor(KERNEL, 'latents', latents, { rank: 5, dtype: 'float32', shape: [1, 4, undefined, undefined, undefined] });
    const [, , F, h, w] = latents.shape;
    checkTensor(KERNEL, 'refLatent', refLatent, { dtype: 'float32', shape: [1, 4, h, w] });
    return { F, P: h * w };
  }
}
