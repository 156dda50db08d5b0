/**
 * Draws one flow as an rgba8unorm texture with the Middlebury colour wheel (direction = hue,
 * length = saturation), normalised by the frame's largest finite flow length or by a given
 * maximum. The UI samples the texture directly; nothing comes back to the CPU.
 * Math: shaders/flow_colour.wgsl.
 */
import colourSrc from '../../../shaders/flow_colour.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkBindingSize, checkTensor, type GpuTensor } from '../tensor';
import { bindGroup, bindGroupLayout, computePipeline, dispatchGrid, gridCapOption, uniformBuffer, submitNow } from './common';

export interface FlowColourArgs {
  /** One flow [2, H, W] or a stack [N, 2, H, W] float32 (pixel displacements). */
  flows: GpuTensor;
  /** Which flow of a stack to draw; default 0. */
  frame?: number;
  /**
   * Flow length (pixels) drawn at full saturation; longer flows are darkened. Default: the
   * frame's largest finite length (+ 1e-5), so the strongest motion is fully saturated.
   */
  maxRadius?: number;
  /** Optional rgba8unorm W x H texture with STORAGE_BINDING usage to draw into. */
  output?: GPUTexture;
}

const KERNEL = 'FlowColour';
const WG = 64;
/** Texture usages of a texture this kernel creates: drawn here, sampled by the UI, read back by tests. */
export const FLOW_COLOUR_USAGE = 0x08 /* STORAGE_BINDING */ | 0x04 /* TEXTURE_BINDING */ | 0x01 /* COPY_SRC */;

/**
 * The Middlebury colour wheel: 55 RGB colours (0..255) in six ramps, red -> yellow (15),
 * yellow -> green (6), green -> cyan (4), cyan -> blue (11), blue -> magenta (13),
 * magenta -> red (6), each ramp step floor(255 * i / len).
 */
export function middleburyWheel(): [number, number, number][] {
  const ramps: [number, (i: number, len: number) => [number, number, number]][] = [
    [15, (i, n) => [255, Math.floor((255 * i) / n), 0]],
    [6, (i, n) => [255 - Math.floor((255 * i) / n), 255, 0]],
    [4, (i, n) => [0, 255, Math.floor((255 * i) / n)]],
    [11, (i, n) => [0, 255 - Math.floor((255 * i) / n), 255]],
    [13, (i, n) => [Math.floor((255 * i) / n), 0, 255]],
    [6, (i, n) => [255, 0, 255 - Math.floor((255 * i) / n)]],
  ];
  const wheel: [number, number, number][] = [];
  for (const [len, colour] of ramps) for (let i = 0; i < len; i++) wheel.push(colour(i, len));
  return wheel;
}

export class FlowColour {
  private readonly device: GPUDevice;
  private readonly gridCap: number;
  private readonly layout: GPUBindGroupLayout;
  private readonly maxPipeline: GPUComputePipeline;
  private readonly colourPipeline: GPUComputePipeline;
  private readonly wheel: GPUBuffer;
  private readonly maxBits: GPUBuffer;
  private disposed = false;

  constructor(
    device: GPUDevice,
    options: { /** Test hook: cap on workgroups per grid dimension (forces 2D grids). */ maxWorkgroupsPerDimension?: number } = {},
  ) {
    this.device = device;
    this.gridCap = gridCapOption(options);
    const colours = middleburyWheel();
    this.layout = bindGroupLayout(device, 'flow colour', ['uniform', 'read', 'write', 'read', 'rgba8-texture']);
    const pipeline = (entryPoint: string) =>
      computePipeline(device, `flow colour ${entryPoint}`, this.layout, {
        code: colourSrc,
        entryPoint,
        constants: { WG, NCOLS: colours.length },
      });
    this.maxPipeline = pipeline('max_radius');
    this.colourPipeline = pipeline('colour');
    this.wheel = device.createBuffer({
      size: colours.length * 16,
      usage: GPUBufferUsage.STORAGE,
      mappedAtCreation: true,
      label: 'colour wheel',
    });
    new Float32Array(this.wheel.getMappedRange()).set(colours.flatMap(([r, g, b]) => [r, g, b, 0]));
    this.wheel.unmap();
    this.maxBits = device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: 'flow colour max' });
  }

  encode(encoder: GPUCommandEncoder, args: FlowColourArgs): GPUTexture {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const { H, W, frame, useGiven, givenMax } = this.validate(args);
    const output =
      args.output ?? this.device.createTexture({ size: [W, H], format: 'rgba8unorm', usage: FLOW_COLOUR_USAGE, label: 'flow colour' });
    const params = uniformBuffer(this.device, [H, W, frame, useGiven ? 1 : 0, { f32: givenMax }], 'flow colour params');
    const group = bindGroup(this.device, this.layout, [params, args.flows, this.maxBits, this.wheel, output.createView()]);
    const [gx, gy] = dispatchGrid(this.device, KERNEL, H * W, WG, this.gridCap);
    if (!useGiven) encoder.clearBuffer(this.maxBits);
    const pass = encoder.beginComputePass({ label: 'flow colour' });
    pass.setBindGroup(0, group);
    if (!useGiven) {
      pass.setPipeline(this.maxPipeline);
      pass.dispatchWorkgroups(gx, gy);
    }
    pass.setPipeline(this.colourPipeline);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    return output;
  }

  run(args: FlowColourArgs): GPUTexture {
    return submitNow(this.device, 'flow colour', (encoder) => this.encode(encoder, args));
  }

  /** Safe to call twice; textures already returned stay valid. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.wheel.destroy();
    this.maxBits.destroy();
  }

  private validate(args: FlowColourArgs) {
    if (!args || typeof args !== 'object') throw new KernelInputError(KERNEL, 'args', 'is missing');
    const flows = args.flows;
    checkTensor(KERNEL, 'flows', flows, { dtype: 'float32' });
    if (flows.shape.length !== 3 && flows.shape.length !== 4) {
      throw new KernelInputError(KERNEL, 'flows', `has shape ${JSON.stringify(flows.shape)}, expected [2, H, W] or [N, 2, H, W]`);
    }
    const stacked = flows.shape.length === 4;
    const N = stacked ? flows.shape[0] : 1;
    const [two, H, W] = stacked ? flows.shape.slice(1) : flows.shape;
    if (two !== 2)
      throw new KernelInputError(KERNEL, 'flows', `has shape ${JSON.stringify(flows.shape)}, the component dimension must be 2 (dx, dy)`);
    const frame = args.frame ?? 0;
    if (!Number.isInteger(frame) || frame < 0 || frame >= N) {
      throw new KernelInputError(KERNEL, 'frame', `is ${frame}, expected an integer from 0 to ${N - 1}`);
    }
    const useGiven = args.maxRadius !== undefined;
    const givenMax = args.maxRadius ?? 0;
    if (useGiven && !(Number.isFinite(givenMax) && givenMax > 0)) {
      throw new KernelInputError(KERNEL, 'maxRadius', `is ${givenMax}, expected a finite number > 0`);
    }
    const maxSide = this.device.limits.maxTextureDimension2D;
    if (H > maxSide || W > maxSide) {
      throw new KernelInputError(KERNEL, 'flows', `is ${W} x ${H}, over this device's maxTextureDimension2D of ${maxSide}`);
    }
    if (args.output) {
      const t = args.output;
      if (t.format !== 'rgba8unorm') throw new KernelInputError(KERNEL, 'output', `has format ${t.format}, expected rgba8unorm`);
      if (t.width !== W || t.height !== H)
        throw new KernelInputError(KERNEL, 'output', `is ${t.width} x ${t.height}, expected ${W} x ${H}`);
      if (!(t.usage & 0x08)) throw new KernelInputError(KERNEL, 'output', 'lacks STORAGE_BINDING usage');
      if (t.dimension !== '2d' || t.depthOrArrayLayers !== 1)
        throw new KernelInputError(KERNEL, 'output', 'must be a single-layer 2D texture');
    }
    checkBindingSize(KERNEL, 'flows', byteSize(flows), this.device);
    return { H, W, frame, useGiven, givenMax };
  }
}
