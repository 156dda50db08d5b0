/**
 * Stage-1 layout/scaling kernels between ONNX sessions (shaders/stage1_layout.wgsl): image
 * unpack to [0,1], UNet sample assembly, ControlNet condition scatter, per-frame latent for the
 * flow-VAE decoder, and flow decode with brush masking. Weight-free; layouts in the shader header.
 */
import source from '../../../shaders/stage1_layout.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkTensor, createTensor, numel, type GpuTensor } from '../tensor';

const KERNEL = 'Stage1Layout';
const WG = 64;
type Entry = 'unpack_rgb01' | 'assemble_sample' | 'scatter_control' | 'frame_latent' | 'decode_flow' | 'resize_rgb01' | 'mask_flows';
const ENTRIES: Entry[] = [
  'unpack_rgb01',
  'assemble_sample',
  'scatter_control',
  'frame_latent',
  'decode_flow',
  'resize_rgb01',
  'mask_flows',
];

interface Dims {
  B?: number;
  F1?: number;
  f?: number;
  h?: number;
  w?: number;
  H?: number;
  W?: number;
  scale?: number;
}

export class Stage1LayoutKernels {
  private readonly pipelines = new Map<Entry, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {
    const module = device.createShaderModule({ label: 'stage-1 layout', code: source });
    for (const e of ENTRIES) {
      this.pipelines.set(
        e,
        device.createComputePipeline({ label: `stage-1 ${e}`, layout: 'auto', compute: { module, entryPoint: e, constants: { WG } } }),
      );
    }
  }

  private dispatch(encoder: GPUCommandEncoder, entry: Entry, total: number, d: Dims, bindings: [number, GpuTensor][]): void {
    const groups = Math.ceil(total / WG);
    const gx = Math.max(1, Math.min(groups, this.device.limits.maxComputeWorkgroupsPerDimension));
    const gy = Math.max(1, Math.ceil(groups / gx));
    const params = new ArrayBuffer(48);
    const u = new Uint32Array(params);
    u.set([total, gx * WG, d.B ?? 0, d.F1 ?? 0, d.f ?? 0, d.h ?? 0, d.w ?? 0, d.H ?? 0, d.W ?? 0]);
    new Float32Array(params)[9] = d.scale ?? 1;
    const uniform = this.device.createBuffer({
      size: 48,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: `stage-1 ${entry} params`,
    });
    this.device.queue.writeBuffer(uniform, 0, params);
    const pipeline = this.pipelines.get(entry)!;
    const pass = encoder.beginComputePass({ label: `stage-1 ${entry}` });
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

  /** Packed RGBA8 [H, W] -> [1, 3, H, W] float32 in [0, 1] (value / 255). */
  unpackRgb01(encoder: GPUCommandEncoder, image: GpuTensor, output?: GpuTensor): GpuTensor {
    checkTensor(KERNEL, 'image', image, { rank: 2, dtype: 'uint32' });
    const [H, W] = image.shape;
    const out = output ?? createTensor(this.device, [1, 3, H, W], 'float32', 'image01');
    checkTensor(KERNEL, 'image01', out, { shape: [1, 3, H, W], dtype: 'float32' });
    this.dispatch(encoder, 'unpack_rgb01', 3 * H * W, { H, W }, [
      [1, image],
      [2, out],
    ]);
    return out;
  }

  /** Packed RGBA8 [H, W] -> [1, 3, height, width] in [0, 1], bilinear (PyTorch align_corners = false, no antialiasing). */
  resizeRgb01(encoder: GPUCommandEncoder, image: GpuTensor, height: number, width: number): GpuTensor {
    checkTensor(KERNEL, 'image', image, { rank: 2, dtype: 'uint32' });
    const [H, W] = image.shape;
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1)
      throw new KernelInputError(KERNEL, 'size', `must be positive integers, got ${width}x${height}`);
    const out = createTensor(this.device, [1, 3, height, width], 'float32', 'image01 resized');
    this.dispatch(encoder, 'resize_rgb01', 3 * height * width, { H, W, h: height, w: width }, [
      [14, image],
      [15, out],
    ]);
    return out;
  }

  /** flows [N, 2, H, W] *= (1 - staticMask [H, W]), in place. */
  maskFlows(encoder: GPUCommandEncoder, flows: GpuTensor, staticMask: GpuTensor): void {
    checkTensor(KERNEL, 'flows', flows, { rank: 4, dtype: 'float32' });
    const [, , H, W] = flows.shape;
    checkTensor(KERNEL, 'staticMask', staticMask, { shape: [H, W], dtype: 'float32' });
    this.dispatch(encoder, 'mask_flows', numel(flows.shape), { H, W }, [
      [16, staticMask],
      [17, flows],
    ]);
  }

  /** sample [B, 8, F1, h, w] = [imageLatent * scale over frames, latents] for every batch entry. */
  assembleSample(
    encoder: GPUCommandEncoder,
    a: { imageLatent: GpuTensor; latents: GpuTensor; batch: number; scale: number; output?: GpuTensor },
  ): GpuTensor {
    checkTensor(KERNEL, 'latents', a.latents, { rank: 5, dtype: 'float32' });
    const [, , F1, h, w] = a.latents.shape;
    checkTensor(KERNEL, 'imageLatent', a.imageLatent, { shape: [1, 4, h, w], dtype: 'float32' });
    const out = a.output ?? createTensor(this.device, [a.batch, 8, F1, h, w], 'float32', 'unet sample');
    checkTensor(KERNEL, 'sample', out, { shape: [a.batch, 8, F1, h, w], dtype: 'float32' });
    this.dispatch(encoder, 'assemble_sample', numel(out.shape), { B: a.batch, F1, h, w, scale: a.scale }, [
      [3, a.imageLatent],
      [4, a.latents],
      [5, out],
    ]);
    return out;
  }

  /** Writes frame f of the ControlNet condition [B, 5, F1, h, w]: [frame latent (4), mask8[f]]. */
  scatterControl(encoder: GPUCommandEncoder, a: { frameLatent: GpuTensor; mask8: GpuTensor; frame: number; control: GpuTensor }): void {
    checkTensor(KERNEL, 'control', a.control, { rank: 5, dtype: 'float32' });
    const [B, C, F1, h, w] = a.control.shape;
    if (C !== 5) throw new KernelInputError(KERNEL, 'control', `must have 5 channels, has ${C}`);
    checkTensor(KERNEL, 'frameLatent', a.frameLatent, { shape: [1, 4, h, w], dtype: 'float32' });
    checkTensor(KERNEL, 'mask8', a.mask8, { shape: [F1, h, w], dtype: 'float32' });
    if (!Number.isInteger(a.frame) || a.frame < 0 || a.frame >= F1)
      throw new KernelInputError(KERNEL, 'frame', `must be in 0..${F1 - 1}, got ${a.frame}`);
    this.dispatch(encoder, 'scatter_control', B * 5 * h * w, { B, F1, f: a.frame, h, w }, [
      [6, a.frameLatent],
      [7, a.mask8],
      [8, a.control],
    ]);
  }

  /** [1, 4, h, w] = latents[:, :, frame] / scale (the flow-VAE decoder's input). */
  frameLatent(encoder: GPUCommandEncoder, a: { latents: GpuTensor; frame: number; scale: number; output?: GpuTensor }): GpuTensor {
    checkTensor(KERNEL, 'latents', a.latents, { rank: 5, dtype: 'float32' });
    const [, , F1, h, w] = a.latents.shape;
    if (!Number.isInteger(a.frame) || a.frame < 0 || a.frame >= F1)
      throw new KernelInputError(KERNEL, 'frame', `must be in 0..${F1 - 1}, got ${a.frame}`);
    const out = a.output ?? createTensor(this.device, [1, 4, h, w], 'float32', 'flow latent frame');
    this.dispatch(encoder, 'frame_latent', 4 * h * w, { F1, f: a.frame, h, w, scale: a.scale }, [
      [9, a.latents],
      [10, out],
    ]);
    return out;
  }

  /** flows[frame] = clamp(2 v - 1, -1, 1) * (W, H) * (1 - staticMask); flows is [F1, 2, H, W]. */
  decodeFlow(encoder: GPUCommandEncoder, a: { decoded: GpuTensor; staticMask: GpuTensor; frame: number; flows: GpuTensor }): void {
    checkTensor(KERNEL, 'flows', a.flows, { rank: 4, dtype: 'float32' });
    const [F1, , H, W] = a.flows.shape;
    checkTensor(KERNEL, 'decoded', a.decoded, { shape: [1, 2, H, W], dtype: 'float32' });
    checkTensor(KERNEL, 'staticMask', a.staticMask, { shape: [H, W], dtype: 'float32' });
    if (!Number.isInteger(a.frame) || a.frame < 0 || a.frame >= F1)
      throw new KernelInputError(KERNEL, 'frame', `must be in 0..${F1 - 1}, got ${a.frame}`);
    this.dispatch(encoder, 'decode_flow', 2 * H * W, { F1, f: a.frame, H, W }, [
      [11, a.decoded],
      [12, a.staticMask],
      [13, a.flows],
    ]);
  }
}
