/**
 * Model packs the user has installed, and the one install that may run at a time. Plain store
 * (usable outside React); OPFS is the truth, `refresh()` re-reads it. Cancel is not a failure:
 * it leaves a notice and the pack resumable.
 */
import { create } from 'zustand';
import { isAbort } from '../errors';
import {
  BUNDLED_TINY_PACK,
  installPack,
  localSource,
  urlSource,
  type InstallProgress,
  type LocalFile,
  type PackSource,
} from '../models/loader';
import type { Precision } from '../models/manifest';
import { listPacks, removePack, type PackRecord } from '../models/store';
import { getEngineClient } from './gpu';

export type VariantChoice = 'auto' | Precision;

export interface InstallTask {
  /** What is being installed, in words (the URL, "test pack", a folder name). */
  label: string;
  progress: InstallProgress | null;
  /** Latest byte counts (kept across the non-byte events). */
  loadedBytes: number;
  totalBytes: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
  checking: boolean;
}

export interface PacksState {
  packs: PackRecord[];
  loaded: boolean;
  task: InstallTask | null;
  error: string | null;
  notice: string | null;
  variant: VariantChoice;
  setVariant(v: VariantChoice): void;
  refresh(): Promise<void>;
  installBundled(options?: { goldens?: boolean }): Promise<void>;
  installFromUrl(url: string): Promise<void>;
  installFromFiles(files: LocalFile[]): Promise<void>;
  /** Continues an incomplete install from its recorded source (URL sources only). */
  resume(id: string): Promise<void>;
  cancel(): void;
  remove(id: string): Promise<void>;
  dismiss(): void;
}

let controller: AbortController | null = null;

/** Asks the engine worker (the app's one GPU device) whether fp16 shaders are available. */
async function shaderF16(): Promise<boolean> {
  try {
    return (await getEngineClient().gpuInfo()).features.shaderF16;
  } catch {
    return false;
  }
}

export const usePacksStore = create<PacksState>()((set, get) => {
  const run = async (label: string, makeSource: () => PackSource, opts: { variant?: VariantChoice; goldens?: boolean } = {}) => {
    if (get().task) return;
    controller = new AbortController();
    const signal = controller.signal;
    set({
      task: { label, progress: null, loadedBytes: 0, totalBytes: 0, bytesPerSecond: 0, etaSeconds: null, checking: false },
      error: null,
      notice: null,
    });
    try {
      const source = makeSource();
      const record = await installPack(source, {
        signal,
        shaderF16: await shaderF16(),
        variant: opts.variant ?? get().variant,
        goldens: opts.goldens,
        onProgress: (e) => {
          const t = get().task;
          if (!t) return;
          if (e.type === 'progress') {
            set({
              task: {
                ...t,
                progress: e,
                loadedBytes: e.loadedBytes,
                totalBytes: e.totalBytes,
                bytesPerSecond: e.bytesPerSecond,
                etaSeconds: e.etaSeconds,
                checking: e.stage === 'check',
              },
            });
          } else if (e.type === 'start') {
            set({ task: { ...t, progress: e, totalBytes: e.totalBytes, label: `${e.name} (${e.variant})` } });
          } else {
            set({ task: { ...t, progress: e } });
          }
        },
      });
      set({ notice: `Installed ${record.name} (${record.variant}).` });
    } catch (e) {
      if (isAbort(e)) set({ notice: 'Install cancelled. What was downloaded is kept: Resume continues from there.' });
      else set({ error: e instanceof Error ? e.message : String(e) });
    } finally {
      controller = null;
      set({ task: null });
      await get().refresh();
    }
  };

  return {
    packs: [],
    loaded: false,
    task: null,
    error: null,
    notice: null,
    variant: 'auto',
    setVariant: (variant) => set({ variant }),
    refresh: async () => {
      try {
        set({ packs: await listPacks(), loaded: true });
      } catch (e) {
        set({ loaded: true, error: e instanceof Error ? e.message : String(e) });
      }
    },
    installBundled: (options = {}) =>
      run('the test pack', () => urlSource(new URL(BUNDLED_TINY_PACK, location.origin), 'bundled'), options),
    installFromUrl: (url) => run(url, () => urlSource(url)),
    installFromFiles: (files) => run('the chosen folder', () => localSource(files)),
    resume: async (id) => {
      const rec = get().packs.find((p) => p.id === id);
      if (!rec) return;
      if (rec.source.kind === 'local') {
        set({ error: `"${rec.name}" was installed from a folder on this computer: choose that folder again to continue.`, notice: null });
        return;
      }
      const { url, kind } = rec.source;
      await run(rec.name, () => urlSource(new URL(url), kind), { variant: rec.variant, goldens: rec.goldens });
    },
    cancel: () => controller?.abort(),
    remove: async (id) => {
      if (get().task) return;
      try {
        await removePack(id);
        set({ notice: null, error: null });
      } catch (e) {
        set({ error: `Could not remove the pack: ${e instanceof Error ? e.message : String(e)}` });
      }
      await get().refresh();
    },
    dismiss: () => set({ error: null, notice: null }),
  };
});
