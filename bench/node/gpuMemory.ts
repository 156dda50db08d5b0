/**
 * Measured GPU memory: the live bytes of every GPUBuffer created on one device, counted by
 * wrapping device.createBuffer (this device object only) and GPUBuffer.prototype.destroy. ONNX
 * Runtime's WebGPU EP allocates its weights, activations and pools on the device the session is
 * given (src/models/session.ts hands it ours), so its buffers are counted with the WGSL kernels'.
 *
 * What it cannot see: textures (the pipeline uses none), driver-internal memory (pipelines,
 * descriptor pools, staging Dawn makes for writeBuffer), and a buffer dropped without destroy()
 * stays counted until the end (Dawn frees it on garbage collection): the peak is the size the
 * application asked for, an upper bound on what it keeps alive, a lower bound on the driver's.
 */

export interface MemorySnapshot {
  live_bytes: number;
  /** Since install(). */
  peak_bytes: number;
  /** Since the last resetPhase() (or install()). */
  phase_peak_bytes: number;
  buffers_created: number;
  buffers_live: number;
}

export class GpuMemoryMeter {
  private live = 0;
  private peak = 0;
  private phasePeak = 0;
  private created = 0;
  private liveCount = 0;
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private restore: (() => void) | null = null;

  constructor(private readonly device: GPUDevice) {}

  install(): void {
    if (this.restore) return;
    const { device, sizes } = this;
    const create = device.createBuffer;
    const meter = this;
    device.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
      const buffer = create.call(this, desc);
      sizes.set(buffer, desc.size);
      meter.created++;
      meter.liveCount++;
      meter.live += desc.size;
      if (meter.live > meter.peak) meter.peak = meter.live;
      if (meter.live > meter.phasePeak) meter.phasePeak = meter.live;
      return buffer;
    };
    // Every buffer of this device shares one prototype; buffers of other devices are not in `sizes`.
    const probe = create.call(device, { size: 4, usage: GPUBufferUsage.COPY_DST });
    const proto = Object.getPrototypeOf(probe) as GPUBuffer;
    probe.destroy();
    const destroy = proto.destroy;
    proto.destroy = function (this: GPUBuffer) {
      const size = sizes.get(this);
      if (size !== undefined) {
        sizes.delete(this);
        meter.live -= size;
        meter.liveCount--;
      }
      return destroy.call(this);
    };
    this.restore = () => {
      device.createBuffer = create;
      proto.destroy = destroy;
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = null;
  }

  /** Starts a phase: its peak counts from the bytes live now. */
  resetPhase(): void {
    this.phasePeak = this.live;
  }

  snapshot(): MemorySnapshot {
    return {
      live_bytes: this.live,
      peak_bytes: this.peak,
      phase_peak_bytes: this.phasePeak,
      buffers_created: this.created,
      buffers_live: this.liveCount,
    };
  }
}
