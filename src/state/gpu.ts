/**
 * The app's one engine worker and the status of its GPU device. The worker owns the only
 * GPUDevice (every kernel and ORT session runs on it); the main thread never makes one: the
 * banner shows what the worker reports (adapter, software fallback, loss and recovery). The
 * editor never needs the GPU: without WebGPU it keeps working and the banner says what is
 * missing; after a device loss the project is untouched and a notice says so.
 */
import { create } from 'zustand';
import { EngineClient, type GpuInfo } from '../pipeline/client';

let client: EngineClient | null = null;
/** The app's one engine worker, created on first use (generate, live preview and banner share it). */
export function getEngineClient(): EngineClient {
  client ??= new EngineClient();
  return client;
}

export type GpuStatus = 'checking' | 'ready' | 'unavailable' | 'lost';

export interface GpuState {
  status: GpuStatus;
  /** Adapter description when ready; the user-facing reason otherwise. */
  message: string;
  isFallbackAdapter: boolean;
  /** The worker's device when ready. */
  info: GpuInfo | null;
  /** Set after a device loss until dismissed. */
  lostNotice: string | null;
  dismissLostNotice(): void;
}

export const useGpuStore = create<GpuState>()((set) => ({
  status: 'checking',
  message: 'Checking WebGPU…',
  isFallbackAdapter: false,
  info: null,
  lostNotice: null,
  dismissLostNotice: () => set({ lostNotice: null }),
}));

function setReady(info: GpuInfo): void {
  useGpuStore.setState({ status: 'ready', message: `WebGPU: ${info.description}`, isFallbackAdapter: info.isFallbackAdapter, info });
}

let started = false;
/** Asks the worker for its device once and follows its losses. Safe to call twice. */
export function initGpu(): void {
  if (started) return;
  started = true;
  const engine = getEngineClient();
  engine.onDevice((event) => {
    if (event.type === 'lost')
      useGpuStore.setState({ status: 'lost', message: event.error.message, lostNotice: event.error.message, info: null });
    else setReady(event.info);
  });
  engine.gpuInfo().then(setReady, (e: unknown) => {
    useGpuStore.setState({ status: 'unavailable', message: e instanceof Error ? e.message : String(e), info: null });
  });
}
