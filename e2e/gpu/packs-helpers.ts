import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { TINY_DIR } from '../packServer';

export interface InstallRun {
  ok: boolean;
  record?: {
    id: string;
    state: string;
    variant: string;
    files: { path: string; bytes: number; sha256: string }[];
    verified: string[];
    totalBytes: number;
  };
  error?: { name: string; code: string; reason?: string; path?: string; message: string; field?: string };
  /** 'progress' events: loaded bytes, in order. */
  loaded: number[];
  totalBytes: number | null;
  filesDone: string[];
  rates: number[];
}

export interface InstallArgs {
  base: string;
  kind?: 'url' | 'bundled';
  variant?: string;
  segmentBytes?: number;
  goldens?: boolean;
  /** Abort once this many files are done. */
  abortAfterFiles?: number;
}

/** Runs installPack in the page (src/models/loader.ts) and reports what happened, serialisably. */
export async function install(page: Page, args: InstallArgs): Promise<InstallRun> {
  return page.evaluate(async (a) => {
    const { installPack, urlSource } = (await import(
      /* @vite-ignore */ '/src/models/loader.ts' as string
    )) as typeof import('../../src/models/loader');
    const ac = new AbortController();
    const run: InstallRun = { ok: false, loaded: [], totalBytes: null, filesDone: [], rates: [] };
    try {
      const record = await installPack(urlSource(a.base, a.kind ?? 'url'), {
        variant: (a.variant ?? 'q8') as 'q8',
        segmentBytes: a.segmentBytes,
        goldens: a.goldens,
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: (e) => {
          if (e.type === 'start') run.totalBytes = e.totalBytes;
          if (e.type === 'progress') {
            run.loaded.push(e.loadedBytes);
            run.rates.push(e.bytesPerSecond);
          }
          if (e.type === 'file-done') {
            run.filesDone.push(e.path);
            if (a.abortAfterFiles !== undefined && run.filesDone.length >= a.abortAfterFiles) ac.abort();
          }
        },
      });
      run.ok = true;
      run.record = record;
    } catch (e) {
      const err = e as Error & { code?: string; reason?: string; path?: string; field?: string };
      run.error = { name: err.name, code: String(err.code), reason: err.reason, path: err.path, field: err.field, message: err.message };
    }
    return run;
  }, args);
}

/** sha256 of every stored file of an installed pack, computed in the page by WebCrypto over `read(path)` (not the loader's hasher). */
export async function storedDigests(page: Page, id: string): Promise<Record<string, string>> {
  return page.evaluate(async (packId) => {
    const { openPack } = (await import(/* @vite-ignore */ '/src/models/store.ts' as string)) as typeof import('../../src/models/store');
    const pack = await openPack(packId);
    const out: Record<string, string> = {};
    for (const f of pack.files) {
      const bytes = await pack.read(f.path);
      const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      out[f.path] = [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
    }
    return out;
  }, id);
}

/** What OPFS holds: each pack's record state and the stored byte count of every file folder. */
export async function storedState(
  page: Page,
): Promise<{ id: string; state: string; verified: string[]; bytes: Record<string, number>; segments: Record<string, number> }[]> {
  return page.evaluate(async () => {
    const { listPacks, packsRoot, segments } = (await import(
      /* @vite-ignore */ '/src/models/store.ts' as string
    )) as typeof import('../../src/models/store');
    const root = await packsRoot();
    const out = [];
    for (const r of await listPacks()) {
      const dir = await root.getDirectoryHandle(r.id);
      const bytes: Record<string, number> = {};
      const segs: Record<string, number> = {};
      for (const f of r.files) {
        const parts = await segments(dir, f.path);
        if (parts.length) {
          bytes[f.path] = parts.reduce((s, p) => s + p.size, 0);
          segs[f.path] = parts.length;
        }
      }
      out.push({ id: r.id, state: r.state, verified: r.verified, bytes, segments: segs });
    }
    return out;
  });
}

/** Names of everything at the top of this origin's OPFS and in model-packs/ (nothing else may appear). */
export async function opfsNames(page: Page): Promise<{ top: string[]; packs: string[] }> {
  return page.evaluate(async () => {
    const list = async (d: FileSystemDirectoryHandle) => {
      const n: string[] = [];
      for await (const k of (d as unknown as { keys(): AsyncIterable<string> }).keys()) n.push(k);
      return n.sort();
    };
    const top = await navigator.storage.getDirectory();
    const names = await list(top);
    const packs = names.includes('model-packs') ? await list(await top.getDirectoryHandle('model-packs')) : [];
    return { top: names, packs };
  });
}

/** sha256 of a committed tiny-pack file, read from disk by Node (the independent reference). */
export function diskSha256(path: string): string {
  return createHash('sha256')
    .update(readFileSync(resolve(TINY_DIR, path)))
    .digest('hex');
}
