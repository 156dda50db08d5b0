/**
 * The DDIM latent update on the GPU (shaders/ddim_step.wgsl): classifier-free guidance combine
 * and x_prev from the epsilon prediction, in place on the latents. The scalars come from the
 * scheduler (src/pipeline/scheduler.ts, `stepCoefficients`); this wrapper only dispatches.
 */
import source from '../../../shaders/ddim_step.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkTensor, numel, type GpuTensor } from '../tensor';

export interface DdimStepArgs {
  /** [batch, ...] float32, batch 1 or 2 ([uncond, cond]); each entry has the latents' element count. */
  noisePred: GpuTensor;
  /** [1, ...] float32 latents, updated in place. */
  latents: GpuTensor;
  /** Used when noisePred has batch 2. */
  guidance: number;
  alphaBar: number;
  alphaBarPrev: number;
}

const KERNEL = 'DdimStep';
const WG = 64;

export class DdimStepKernel {
  private readonly layout: GPUBindGroupLayout;
  private readonly pipeline: GPUComputePipeline;

  constructor(private readonly device: GPUDevice) {
    this.layout = device.createBindGroupLayout({
      label: 'ddim step',
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
        { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
        { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
      ],
    });
    this.pipeline = device.createComputePipeline({
      label: 'ddim step',
      layout: device.createPipelineLayout({ bindGroupLayouts: [this.layout] }),
      compute: { module: device.createShaderModule({ label: 'ddim step', code: source }), entryPoint: 'main', constants: { WG } },
    });
  }

  encode(encoder: GPUCommandEncoder, a: DdimStepArgs): void {
    checkTensor(KERNEL, 'latents', a.latents, { dtype: 'float32' });
    checkTensor(KERNEL, 'noisePred', a.noisePred, { dtype: 'float32' });
    const n = numel(a.latents.shape);
    const batch = a.noisePred.shape[0];
    if ((batch !== 1 && batch !== 2) || numel(a.noisePred.shape) !== batch * n) {
      throw new KernelInputError(
        KERNEL,
        'noisePred',
        `has shape ${JSON.stringify(a.noisePred.shape)}, expected batch 1 or 2 of ${n} elements`,
      );
    }
    for (const [k, v] of [
      ['alphaBar', a.alphaBar],
      ['alphaBarPrev', a.alphaBarPrev],
    ] as const) {
      if (!(v > 0 && v <= 1)) throw new KernelInputError(KERNEL, k, `must be in (0, 1], got ${v}`);
    }
    const groups = Math.ceil(n / WG);
    const gx = Math.min(groups, this.device.limits.maxComputeWorkgroupsPerDimension);
    const gy = Math.ceil(groups / gx);
    const params = new ArrayBuffer(32);
    const u = new Uint32Array(params);
    const f = new Float32Array(params);
    u[0] = n;
    u[1] = batch;
    u[2] = gx * WG;
    f[3] = a.guidance;
    f[4] = Math.sqrt(a.alphaBar);
    f[5] = Math.sqrt(1 - a.alphaBar);
    f[6] = Math.sqrt(a.alphaBarPrev);
    f[7] = Math.sqrt(1 - a.alphaBarPrev);
    const uniform = this.device.createBuffer({
      size: 32,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'ddim step params',
    });
    this.device.queue.writeBuffer(uniform, 0, params);
    const pass = encoder.beginComputePass({ label: 'ddim step' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(
      0,
      this.device.createBindGroup({
        layout: this.layout,
        entries: [
          { binding: 0, resource: { buffer: uniform } },
          { binding: 1, resource: { buffer: a.noisePred.buffer, size: byteSize(a.noisePred) } },
          { binding: 2, resource: { buffer: a.latents.buffer, size: byteSize(a.latents) } },
        ],
      }),
    );
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
  }
}
