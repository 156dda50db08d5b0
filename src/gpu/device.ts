/**
 * WebGPU adapter/device acquisition for the whole app. ORT sessions and our WGSL kernels share
 * ONE GPUDevice (see architecture in README), so limits are requested once, here, up to what
 * the adapter offers. Device loss is surfaced to subscribers, which recreate their pipelines;
 * user data never lives on the GPU only, so nothing the user made is lost with the device.
 */
import { DeviceLostError, WebGpuUnavailableError, AppError } from '../errors';

export interface GpuFeatures {
  shaderF16: boolean;
  timestampQuery: boolean;
  subgroups: boolean;
}

export interface GpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly features: GpuFeatures;
  /** SwiftShader and other software adapters: correct but slow. */
  readonly isFallbackAdapter: boolean;
  readonly description: string;
}

/** Limits the app raises to the adapter's maximum (defaults are too small for UNet tensors). */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
] as const;

/** The least the app can work with (bytes). 128 MiB bindings hold a 16x320x64x40 fp32 tensor many times over. */
export const MIN_STORAGE_BINDING = 128 * 1024 * 1024;

const WANTED_FEATURES: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'subgroups' as GPUFeatureName];

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Called once if this device is lost (not when destroyed by us). */
  onLost?: (error: DeviceLostError) => void;
  /** For tests: pretend the adapter lacks these features. */
  disableFeatures?: GPUFeatureName[];
}

export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new WebGpuUnavailableError('navigator.gpu is missing');
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (e) {
    throw new WebGpuUnavailableError(`requestAdapter failed: ${String(e)}`);
  }
  if (!adapter) throw new WebGpuUnavailableError('no GPU adapter was found');

  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  if (adapter.limits.maxStorageBufferBindingSize < MIN_STORAGE_BINDING) {
    throw new AppError(
      'webgpu-adapter-too-small',
      `This GPU allows storage bindings of only ${adapter.limits.maxStorageBufferBindingSize} bytes; ` +
        `the app needs at least ${MIN_STORAGE_BINDING}. Try another browser or GPU.`,
    );
  }
  const disabled = new Set(options.disableFeatures ?? []);
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter!.features.has(f) && !disabled.has(f));

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'motion-i2v' });
  } catch (e) {
    throw new WebGpuUnavailableError(`requestDevice failed: ${String(e)}`);
  }
  device.lost.then((info) => {
    if (info.reason === 'destroyed') return;
    options.onLost?.(new DeviceLostError(info.message || String(info.reason)));
  });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const isFallbackAdapter = Boolean(
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ||
      (info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter,
  );
  return {
    adapter,
    device,
    isFallbackAdapter,
    description: info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown GPU' : 'unknown GPU',
    features: {
      shaderF16: device.features.has('shader-f16'),
      timestampQuery: device.features.has('timestamp-query'),
      subgroups: device.features.has('subgroups' as GPUFeatureName),
    },
  };
}

/**
 * Holds the current GPU context and replaces it after a loss. Consumers subscribe and rebuild
 * their pipelines/sessions on the new device; `get()` waits for a usable device.
 */
export class GpuManager {
  private current: Promise<GpuContext> | null = null;
  private listeners = new Set<(event: GpuEvent) => void>();
  private readonly options: Omit<AcquireOptions, 'onLost'>;

  constructor(options: Omit<AcquireOptions, 'onLost'> = {}) {
    this.options = options;
  }

  get(): Promise<GpuContext> {
    if (!this.current) {
      this.current = acquireGpu({ ...this.options, onLost: (err) => this.handleLost(err) });
      this.current.then(
        (ctx) => this.emit({ type: 'ready', context: ctx }),
        (error) => {
          this.current = null;
          this.emit({ type: 'unavailable', error });
        },
      );
    }
    return this.current;
  }

  subscribe(fn: (event: GpuEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Test hook and last resort: destroy the device as if the GPU had been lost. */
  async simulateLoss(): Promise<void> {
    const ctx = await this.current;
    if (!ctx) return;
    this.handleLost(new DeviceLostError('simulated'));
    ctx.device.destroy();
  }

  dispose(): void {
    this.current?.then(
      (c) => c.device.destroy(),
      () => undefined,
    );
    this.current = null;
    this.listeners.clear();
  }

  private handleLost(error: DeviceLostError): void {
    this.current = null;
    this.emit({ type: 'lost', error });
    // Recreate eagerly so the next job finds a device waiting.
    void this.get().catch(() => undefined);
  }

  private emit(event: GpuEvent): void {
    for (const fn of this.listeners) fn(event);
  }
}

export type GpuEvent =
  | { type: 'ready'; context: GpuContext }
  | { type: 'lost'; error: DeviceLostError }
  | { type: 'unavailable'; error: unknown };
