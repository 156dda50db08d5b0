/**
 * Installing a model pack: every file goes through one function, `installPack`:
 * manifest (its stage-2 plan checked against its segments) -> variant -> quota check -> for each file
 * (store -> fetch/read from the byte kept -> stream with byte counts -> sha256 while streaming ->
 * commit or delete) -> the ONNX files checked against the manifest (packCheck.ts) -> installed.
 *
 * Sources are the bundled tiny pack (the app's own origin), a base URL the user enters (https,
 * the same origin, or http on localhost), and files or a folder the user picks or drops (the
 * exporter's output folder as it is). A source only has to hand out byte streams from an
 * offset; resuming, hashing, storage and progress are the same for all.
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { AbortError, isAbort } from '../errors';
import { parseManifest, type FileEntry, type Manifest, type Precision } from './manifest';
import { checkPackFiles, PackMismatchError } from './packCheck';
import { formatBytes, ModelPackError, StorageQuotaError } from './packErrors';
import { createRateMeter } from './progress';
import {
  deleteFile,
  listPacks,
  nextSegment,
  packsRoot,
  readRecord,
  removePack,
  segments,
  writeRecord,
  writeText,
  type PackRecord,
  type PackSourceInfo,
  type StoreOptions,
} from './store';
import { chooseVariant, packFiles, packId, totalBytes } from './variant';

// --- sources -----------------------------------------------------------------------------------

export interface OpenedBody {
  body: ReadableStream<Uint8Array>;
  /** Byte offset the body really starts at: the asked offset, or 0 when a server ignored Range. */
  start: number;
}

export interface PackSource {
  readonly info: PackSourceInfo;
  readManifest(signal?: AbortSignal): Promise<string>;
  /** Fails before anything is stored when files the install needs are absent (local sources). */
  check?(files: readonly FileEntry[]): void;
  open(entry: FileEntry, offset: number, signal?: AbortSignal): Promise<OpenedBody>;
}

/** Where the bundled tiny test pack lives on the app's own origin. */
export const BUNDLED_TINY_PACK = '/models/tiny/';

/**
 * The folder URL a user's text names: absolute https (or http on localhost), or a path on this
 * origin; a trailing `manifest.json` is accepted. Throws ModelPackError('address') otherwise.
 */
export function packBaseUrl(text: string, origin = globalThis.location?.origin ?? 'http://localhost'): URL {
  const t = text.trim();
  let url: URL;
  try {
    url = new URL(t, origin + '/');
  } catch {
    throw new ModelPackError(
      'address',
      `"${t}" is not a web address. Enter the address of the folder that holds the pack's manifest.json (https://…).`,
    );
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const ok = url.origin === new URL(origin).origin || url.protocol === 'https:' || (url.protocol === 'http:' && local);
  if (!ok || url.username || url.password) {
    throw new ModelPackError('address', `Model packs can only be downloaded over https:// (or from this site). "${t}" cannot be used.`);
  }
  url.hash = '';
  url.search = '';
  if (url.pathname.endsWith('/manifest.json')) url.pathname = url.pathname.slice(0, -'manifest.json'.length);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function networkError(url: string, cause: unknown): ModelPackError {
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
  return new ModelPackError(
    'network',
    offline
      ? `You are offline, so ${url} cannot be downloaded. Connect and press Resume; what arrived so far is kept.`
      : `Could not download ${url}: the server did not answer, or it does not let this app read its files ` +
          '(a pack on another site must be served with CORS headers: Access-Control-Allow-Origin). Check the address, then try again.',
    { cause },
  );
}

/** A pack served over HTTP from `base` (a folder URL ending in '/'). */
export function urlSource(base: string | URL, kind: 'url' | 'bundled' = 'url'): PackSource {
  const baseUrl = typeof base === 'string' ? packBaseUrl(base) : base;
  const get = async (path: string, init: RequestInit): Promise<Response> => {
    const href = new URL(path, baseUrl).href;
    let res: Response;
    try {
      res = await fetch(href, { ...init, mode: 'cors', credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      if (isAbort(e)) throw new AbortError();
      throw networkError(href, e);
    }
    return res;
  };
  return {
    info: { kind, url: baseUrl.href },
    async readManifest(signal) {
      const res = await get('manifest.json', { signal });
      if (!res.ok) {
        throw new ModelPackError(
          'http',
          `${new URL('manifest.json', baseUrl).href} answered HTTP ${res.status}. Enter the address of the folder that holds the pack's manifest.json.`,
        );
      }
      try {
        return await res.text();
      } catch (e) {
        if (isAbort(e)) throw new AbortError();
        throw networkError(res.url, e);
      }
    },
    async open(entry, offset, signal) {
      const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
      const res = await get(entry.path, { signal, headers });
      if (res.status === 206 && offset > 0) {
        // Content-Range is readable cross-origin only when exposed; Content-Length always is.
        const range = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        const length = res.headers.get('content-length');
        const startsRight = range ? Number(range[1]) === offset : length === null || Number(length) === entry.bytes - offset;
        if (startsRight && res.body) return { body: res.body, start: offset };
        await res.body?.cancel();
        return this.open(entry, 0, signal);
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new ModelPackError(
          'http',
          `${res.url || entry.path} answered HTTP ${res.status}. The pack on the server is incomplete or moved; check the address.`,
          { path: entry.path },
        );
      }
      return { body: res.body, start: 0 };
    },
  };
}

/** A file the user picked or dropped, with its path inside the picked folder (webkitRelativePath). */
export interface LocalFile {
  path: string;
  file: File;
}

/**
 * The exporter's output folder (or a set of its files) picked or dropped by the user. The
 * folder is found by its manifest.json; pack paths are looked up below it, then, for files
 * picked without folders, by file name when that name is unique.
 */
export function localSource(picked: readonly LocalFile[]): PackSource {
  const norm = picked.map((p) => ({ path: p.path.replace(/^\/+/, ''), file: p.file }));
  const manifests = norm
    .filter((p) => p.path === 'manifest.json' || p.path.endsWith('/manifest.json'))
    .sort((a, b) => a.path.length - b.path.length);
  if (manifests.length === 0) {
    throw new ModelPackError(
      'missing-file',
      "The files you chose have no manifest.json. Choose the pack's folder (the exporter's output) or all of its files.",
    );
  }
  const prefix = manifests[0].path.slice(0, -'manifest.json'.length);
  const byPath = new Map(norm.map((p) => [p.path, p.file]));
  const byName = new Map<string, File | null>();
  for (const p of norm) {
    const name = p.path.split('/').pop()!;
    byName.set(name, byName.has(name) ? null : p.file);
  }
  const find = (path: string): File | undefined => byPath.get(prefix + path) ?? byName.get(path.split('/').pop()!) ?? undefined;
  const label = prefix ? prefix.replace(/\/$/, '') : `${picked.length} files`;
  return {
    info: { kind: 'local', label },
    readManifest: async () => manifests[0].file.text(),
    check(files) {
      const missing = files.filter((f) => !find(f.path));
      if (missing.length) {
        throw new ModelPackError(
          'missing-file',
          `The chosen folder lacks ${missing.length} file${missing.length > 1 ? 's' : ''} the manifest lists (${missing
            .slice(0, 3)
            .map((f) => f.path)
            .join(', ')}${missing.length > 3 ? ', …' : ''}). Choose the pack's whole folder.`,
          { path: missing[0].path },
        );
      }
    },
    async open(entry, offset) {
      const file = find(entry.path);
      if (!file) throw new ModelPackError('missing-file', `The chosen folder has no ${entry.path}.`, { path: entry.path });
      return { body: file.slice(offset).stream() as ReadableStream<Uint8Array>, start: offset };
    },
  };
}

// --- installing ---------------------------------------------------------------------------------

export type InstallProgress =
  | { type: 'manifest'; stage: 'manifest'; fraction: 0 }
  | { type: 'start'; stage: 'download'; fraction: number; id: string; name: string; variant: Precision; totalBytes: number; files: number }
  | { type: 'file-start'; stage: 'download'; path: string; bytes: number; fraction: number }
  | {
      type: 'progress';
      /** 'check' while bytes kept from an earlier try are re-hashed; 'download' while new bytes arrive. */
      stage: 'download' | 'check';
      fraction: number;
      path: string;
      loadedBytes: number;
      totalBytes: number;
      bytesPerSecond: number;
      etaSeconds: number | null;
    }
  | { type: 'file-done'; stage: 'download'; path: string; fraction: number }
  | { type: 'done'; stage: 'done'; fraction: 1; record: PackRecord };

export interface InstallOptions extends StoreOptions {
  signal?: AbortSignal;
  onProgress?: (event: InstallProgress) => void;
  /** Adapter has shader-f16 (decides the automatic variant). */
  shaderF16?: boolean;
  variant?: Precision | 'auto';
  /** Install the golden tensors too (tests). */
  goldens?: boolean;
  /** Bytes per stored segment (default 64 MiB): at most this much is re-downloaded after a reload. */
  segmentBytes?: number;
  /** Minimum ms between 'progress' events (default 100). */
  progressIntervalMs?: number;
}

const DEFAULT_SEGMENT = 64 * 1024 * 1024;
/** Room kept free beyond the pack's bytes (records, swap files while a segment is written). */
const QUOTA_MARGIN = 16 * 1024 * 1024;

async function checkQuota(neededBytes: number): Promise<void> {
  const est = await navigator.storage?.estimate?.().catch(() => undefined);
  if (!est || typeof est.quota !== 'number') return; // unknown: the writes will tell
  const available = est.quota - (est.usage ?? 0);
  if (neededBytes + QUOTA_MARGIN > available) throw new StorageQuotaError(neededBytes, available);
}

/** 12 hex digits naming a file list (paths and hashes), so each version of a pack gets its own folder. */
async function filesTag(files: readonly FileEntry[]): Promise<string> {
  const h = await createSHA256();
  for (const f of files) h.update(`${f.path}\n${f.sha256}\n${f.bytes}\n`);
  return h.digest('hex').slice(0, 12);
}

function sameFiles(a: readonly FileEntry[], b: readonly FileEntry[]): boolean {
  return a.length === b.length && a.every((f, i) => f.path === b[i].path && f.sha256 === b[i].sha256 && f.bytes === b[i].bytes);
}

function storageError(e: unknown, path?: string): unknown {
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    return new ModelPackError(
      'storage',
      'The browser ran out of storage while saving the model pack. Free disk space or remove other packs, then press Resume.',
      { path, cause: e },
    );
  }
  return e;
}

/**
 * Downloads (or copies) one variant of a pack into OPFS and verifies every file. Resumes what an
 * earlier cut, cancel or reload left: verified files are kept, partial ones continue with an
 * HTTP Range request (restarting when the server answers 200). Cancel rejects with AbortError
 * and keeps the bytes so far. Resolves with the installed record.
 */
export async function installPack(source: PackSource, options: InstallOptions = {}): Promise<PackRecord> {
  const { signal, onProgress, segmentBytes = DEFAULT_SEGMENT, progressIntervalMs = 100 } = options;
  const emit = (e: InstallProgress) => onProgress?.(e);
  signal?.throwIfAborted();
  emit({ type: 'manifest', stage: 'manifest', fraction: 0 });
  const manifestText = await source.readManifest(signal);
  const manifest: Manifest = parseManifest(manifestText);
  const variant = chooseVariant(manifest, { shaderF16: options.shaderF16 ?? false, override: options.variant });
  const files = packFiles(manifest, variant, { goldens: options.goldens });
  source.check?.(files);
  // One folder per exact file list: a new version of a pack installs beside the old one, which
  // stays usable until the new one has verified every file (then the old one is removed).
  const id = `${packId(manifest.name, variant)}-${await filesTag(files)}`;
  const total = totalBytes(files);

  const root = await packsRoot(options);
  let dir = await root.getDirectoryHandle(id).catch(() => null);
  let record = dir ? await readRecord(dir) : null;
  if (record && record.state === 'installed' && sameFiles(record.files, files)) {
    emit({ type: 'done', stage: 'done', fraction: 1, record });
    return record;
  }
  if (dir && (!record || !sameFiles(record.files, files))) {
    // Debris without a readable record: start clean.
    await removePack(id, options);
    dir = null;
    record = null;
  }

  // What is still to come: bytes of unverified files minus what their segments already hold.
  let kept = 0;
  for (const f of files) {
    if (!dir || !record) break;
    if (record.verified.includes(f.path)) kept += f.bytes;
    else
      kept += Math.min(
        f.bytes,
        (await segments(dir, f.path)).reduce((s, p) => s + p.size, 0),
      );
  }
  await checkQuota(total - kept);
  void navigator.storage?.persist?.().catch(() => false);
  signal?.throwIfAborted();

  if (!dir || !record) {
    dir = await root.getDirectoryHandle(id, { create: true });
    record = {
      version: 1,
      id,
      name: manifest.name,
      variant,
      source: source.info,
      goldens: !!options.goldens,
      files,
      totalBytes: total,
      verified: [],
      state: 'installing',
      updatedAt: Date.now(),
    };
    try {
      await writeRecord(dir, record);
      await writeText(dir, 'manifest.json', manifestText);
    } catch (e) {
      throw storageError(e);
    }
  } else {
    record = { ...record, source: source.info };
  }
  emit({ type: 'start', stage: 'download', fraction: 0, id, name: manifest.name, variant, totalBytes: total, files: files.length });

  const meter = createRateMeter();
  let done = 0; // bytes of finished files, for the overall fraction
  let fetchedDone = 0; // bytes fetched in this run by finished files: the rate counts only these
  let lastEmit = -Infinity;
  const tick = (path: string, fileBytes: number, stage: 'download' | 'check', fetched: number, force = false) => {
    const now = performance.now();
    const loaded = done + fileBytes;
    if (stage === 'download') meter.sample(fetchedDone + fetched, now);
    if (!force && now - lastEmit < progressIntervalMs) return;
    lastEmit = now;
    emit({
      type: 'progress',
      stage,
      fraction: total ? loaded / total : 1,
      path,
      loadedBytes: loaded,
      totalBytes: total,
      bytesPerSecond: meter.rate(),
      etaSeconds: meter.eta(total - loaded),
    });
  };

  const hasher = await createSHA256();
  for (const entry of files) {
    if (record.verified.includes(entry.path)) {
      done += entry.bytes;
      continue;
    }
    emit({ type: 'file-start', stage: 'download', path: entry.path, bytes: entry.bytes, fraction: total ? done / total : 1 });
    fetchedDone += await fetchFile(source, dir, entry, hasher, { signal, segmentBytes, tick });
    record = { ...record, verified: [...record.verified, entry.path] };
    await writeRecord(dir, record).catch((e) => {
      throw storageError(e, entry.path);
    });
    done += entry.bytes;
    emit({ type: 'file-done', stage: 'download', path: entry.path, fraction: total ? done / total : 1 });
  }
  // Every file is the one the manifest lists; now whether they fit together (each ONNX file declares
  // the inputs and outputs the manifest gives it). A pack that does not is removed: it can never run.
  const packDir = dir;
  try {
    await checkPackFiles(manifest, variant, async (path) => new Blob(await segments(packDir, path)));
  } catch (e) {
    if (e instanceof PackMismatchError) await removePack(id, options).catch(() => undefined);
    throw e;
  }
  record = { ...record, state: 'installed' };
  await writeRecord(dir, record).catch((e) => {
    throw storageError(e);
  });
  for (const other of await listPacks(options)) {
    if (other.id !== id && other.name === record.name && other.variant === record.variant) await removePack(other.id, options);
  }
  emit({ type: 'done', stage: 'done', fraction: 1, record });
  return record;
}

interface FetchFileContext {
  signal?: AbortSignal;
  segmentBytes: number;
  /** `fileBytes`: bytes of this file so far; `fetched`: of those, the ones that came from the source in this run. */
  tick(path: string, fileBytes: number, stage: 'download' | 'check', fetched: number, force?: boolean): void;
}

/**
 * One file: re-hash the bytes kept from an earlier try, fetch the rest from there, hash every
 * chunk as it is written, roll to a new segment every `segmentBytes`. A mismatch deletes the
 * file's bytes and throws naming it; a cut or cancel closes (keeps) the segment in progress.
 * Resolves with the bytes fetched from the source.
 */
async function fetchFile(
  source: PackSource,
  dir: FileSystemDirectoryHandle,
  entry: FileEntry,
  hasher: IHasher,
  ctx: FetchFileContext,
): Promise<number> {
  const { signal, segmentBytes, tick } = ctx;
  hasher.init();
  let have = 0;
  let fetched = 0;
  const kept = await segments(dir, entry.path);
  if (kept.reduce((s, p) => s + p.size, 0) > entry.bytes) {
    await deleteFile(dir, entry.path);
  } else {
    for (const part of kept) {
      const reader = (part.stream() as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hasher.update(value);
        have += value.byteLength;
        tick(entry.path, have, 'check', 0);
        if (signal?.aborted) {
          await reader.cancel();
          throw new AbortError();
        }
      }
    }
  }

  if (have < entry.bytes) {
    const opened = await source.open(entry, have, signal);
    if (opened.start !== have) {
      // The server sent the whole file again: drop what was kept and hash from the start.
      await deleteFile(dir, entry.path);
      hasher.init();
      have = 0;
    }
    const reader = opened.body.getReader();
    let writer: FileSystemWritableFileStream | null = null;
    let inSegment = 0;
    const closeSegment = async () => {
      if (writer) await writer.close();
      writer = null;
      inSegment = 0;
    };
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (isAbort(e) || signal?.aborted) throw new AbortError();
          throw new ModelPackError(
            'interrupted',
            `The download of ${entry.path} was cut after ${formatBytes(have)} of ${formatBytes(entry.bytes)}. Press Resume to continue from there.`,
            {
              path: entry.path,
              cause: e,
            },
          );
        }
        if (chunk.done) break;
        let value = chunk.value;
        if (have + value.byteLength > entry.bytes) {
          await reader.cancel().catch(() => undefined);
          await closeSegment().catch(() => undefined);
          await deleteFile(dir, entry.path);
          throw new ModelPackError(
            'integrity',
            `${entry.path} is larger than the manifest says (${formatBytes(entry.bytes)}); it was deleted. The pack on the server does not match its manifest.`,
            { path: entry.path },
          );
        }
        while (value.byteLength > 0) {
          if (!writer) writer = await nextSegment(dir, entry.path).catch((e) => Promise.reject(storageError(e, entry.path)));
          const take = Math.min(value.byteLength, segmentBytes - inSegment);
          const part = take === value.byteLength ? value : value.subarray(0, take);
          hasher.update(part);
          await writer!.write(part as Uint8Array<ArrayBuffer>).catch((e) => Promise.reject(storageError(e, entry.path)));
          inSegment += take;
          have += take;
          fetched += take;
          value = value.subarray(take);
          if (inSegment >= segmentBytes) await closeSegment();
        }
        tick(entry.path, have, 'download', fetched);
        if (signal?.aborted) throw new AbortError();
      }
    } finally {
      // Keep what arrived (cut, cancel, or done): close commits the segment in progress.
      await closeSegment().catch(() => undefined);
      reader.releaseLock();
    }
    if (have < entry.bytes) {
      throw new ModelPackError(
        'interrupted',
        `The download of ${entry.path} stopped after ${formatBytes(have)} of ${formatBytes(entry.bytes)}. Press Resume to continue from there.`,
        { path: entry.path },
      );
    }
  }
  tick(entry.path, have, 'download', fetched, true);
  const digest = hasher.digest('hex');
  if (digest !== entry.sha256) {
    await deleteFile(dir, entry.path);
    throw new ModelPackError(
      'integrity',
      `${entry.path} does not match the pack's manifest (its sha256 differs), so it was deleted. The file on the source is damaged or was replaced; download the pack again from a source you trust.`,
      { path: entry.path },
    );
  }
  return fetched;
}
