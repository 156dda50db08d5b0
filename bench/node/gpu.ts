/**
 * WebGPU in plain Node through Dawn (the `webgpu` npm package's dawn.node): loads the native
 * module, installs its globals (GPUBufferUsage, GPUMapMode, ...) and `navigator.gpu`, so the
 * page's own acquireGpu (src/gpu/device.ts) and kernels run unchanged. dawn.node is looked up
 * beside the bundle (the kit layout), then in DAWN_NODE.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireGpu, type GpuContext } from '../../src/gpu/device';

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** What the JSON says about the adapter that ran. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn's backend and driver, as far as the adapter tells them. */
  driver: string;
  isFallbackAdapter: boolean;
  features: string[];
  timestampQuery: boolean;
}

export function dawnNodePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [process.env.DAWN_NODE, join(here, 'dawn.node')].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`dawn.node not found (looked in: ${candidates.join(', ')}); set DAWN_NODE or run from the kit folder`);
  return found;
}

/** Loads dawn.node once and exposes WebGPU the way a browser does. `flags` are Dawn toggles (e.g. backend=vulkan). */
export function installWebGpu(flags: string[] = []): GPU {
  const dawn = createRequire(import.meta.url)(dawnNodePath()) as DawnModule;
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(flags);
  // Node 20 has no global navigator; Node 21+ has one without `gpu`.
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  return gpu;
}

/**
 * dawn.node's queue.writeBuffer refuses views of a SharedArrayBuffer ("Invalid argument"), which
 * a browser accepts; ONNX Runtime's threaded wasm build keeps its heap in one and uploads from it
 * (its weights, its uniforms). Such views are copied into an ordinary buffer first; others pass
 * through untouched.
 */
export function acceptSharedViews(queue: GPUQueue): void {
  const proto = Object.getPrototypeOf(queue) as GPUQueue & { sharedViewsAccepted?: boolean };
  if (proto.sharedViewsAccepted) return;
  const write = proto.writeBuffer;
  proto.writeBuffer = function (this: GPUQueue, buffer, offset, data, dataOffset?, size?) {
    if (ArrayBuffer.isView(data) && typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer) {
      const view = data as unknown as Uint8Array;
      return write.call(this, buffer, offset, view.slice(), dataOffset, size);
    }
    return write.call(this, buffer, offset, data, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  Object.defineProperty(proto, 'sharedViewsAccepted', { value: true });
}

export async function openDevice(): Promise<{ ctx: GpuContext; adapter: AdapterReport }> {
  const ctx = await acquireGpu();
  acceptSharedViews(ctx.device.queue);
  const info = (ctx.adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const field = (k: string) => String((info as unknown as Record<string, unknown> | undefined)?.[k] ?? '');
  const adapter: AdapterReport = {
    vendor: field('vendor'),
    architecture: field('architecture'),
    device: field('device'),
    description: field('description'),
    driver: [field('description'), field('driver')].filter(Boolean).join('; '),
    isFallbackAdapter: ctx.isFallbackAdapter,
    features: [...ctx.adapter.features].map(String).sort(),
    timestampQuery: ctx.features.timestampQuery,
  };
  return { ctx, adapter };
}
