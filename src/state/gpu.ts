/**
 * The app's single GpuManager (one shared GPUDevice for ORT sessions and our kernels) and a
 * small store of its status for the UI. The editor never needs the GPU: without WebGPU it keeps
 * working and the banner says what is missing; after a device loss the project is untouched
 * and a notice says so.
 */
import { create } from 'zustand';
import { GpuManager } from '../gpu/device';

export const gpuManager = new GpuManager();

export type GpuStatus = 'checking' | 'ready' | 'unavailable' | 'lost';

export interface GpuState {
  status: GpuStatus;
  /** Adapter description when ready; the user-facing reason otherwise. */
  message: string;
  isFallbackAdapter: boolean;
  /** Set after a device loss until dismissed. */
  lostNotice: string | null;
  dismissLostNotice(): void;
}

export const useGpuStore = create<GpuState>()((set) => ({
  status: 'checking',
  message: 'Checking WebGPU…',
  isFallbackAdapter: false,
  lostNotice: null,
  dismissLostNotice: () => set({ lostNotice: null }),
}));

let started = false;
/** Subscribes the store to the manager and asks for a device once. Safe to call twice. */
export function initGpu(): void {
  if (started) return;
  started = true;
  gpuManager.subscribe((event) => {
    if (event.type === 'ready') {
      useGpuStore.setState({
        status: 'ready',
        message: `WebGPU: ${event.context.description}`,
        isFallbackAdapter: event.context.isFallbackAdapter,
      });
    } else if (event.type === 'lost') {
      useGpuStore.setState({ status: 'lost', message: event.error.message, lostNotice: event.error.message });
    } else {
      const message = event.error instanceof Error ? event.error.message : String(event.error);
      useGpuStore.setState({ status: 'unavailable', message });
    }
  });
  void gpuManager.get().catch(() => undefined);
}
