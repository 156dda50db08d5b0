/**
 * Installed model packs in the Origin Private File System (OPFS), so a pack loads offline.
 * `<id>` is `<name>.<variant>-<tag>`, the tag naming the exact file list: a new version of a
 * pack installs beside the old one, which stays usable until the new one is complete.
 *
 *   model-packs/<id>/record.json     PackRecord: source, variant, file list, which files verified
 *                   /manifest.json   the manifest as downloaded
 *                   /data/<path>/    one folder per pack file, holding numbered segments
 *                                    000000, 000001, ... whose concatenation is the file
 *
 * Why segments: an OPFS writable commits only on close() (it writes a swap file), and reopening
 * with keepExistingData copies the whole file first. Closing a segment every `segmentBytes`
 * (and on a cut or cancel) keeps what arrived, so a resume after a reload re-downloads at most
 * one segment, with no quadratic copying. A file over 2 GB is never one ArrayBuffer: `file()`
 * returns a disk-backed Blob of its segments, `stream()` streams it.
 *
 * Consistency: record.json is written (atomically, by a writable's close) before any data and
 * again after each verified file; a pack is installed only when its record says so, which is
 * written after the last file verified. A file whose bytes fail verification is deleted.
 */
import { parseManifest, type FileEntry, type Manifest, type Precision } from './manifest';
import { ModelPackError } from './packErrors';

export const PACKS_DIR = 'model-packs';
/** Largest file `read()` returns whole (2 GiB - 1). */
export const MAX_READ_BYTES = 2 ** 31 - 1;

export type PackSourceInfo = { kind: 'url'; url: string } | { kind: 'bundled'; url: string } | { kind: 'local'; label: string };

export interface PackRecord {
  version: 1;
  id: string;
  name: string;
  variant: Precision;
  source: PackSourceInfo;
  /** The golden tensors were installed too. */
  goldens: boolean;
  /** Exactly the files this install holds, from the manifest. */
  files: FileEntry[];
  totalBytes: number;
  /** Paths whose bytes matched size and sha256. */
  verified: string[];
  state: 'installing' | 'installed';
  updatedAt: number;
}

/** An installed pack, as the neural runtime reads it. */
export interface InstalledPack {
  readonly id: string;
  readonly manifest: Manifest;
  readonly variant: Precision;
  readonly files: readonly FileEntry[];
  /** The whole file as bytes (files under 2 GB; use `file` or `stream` for ONNX external data). */
  read(path: string): Promise<Uint8Array<ArrayBuffer>>;
  /** A disk-backed Blob of the file: any size, read lazily. */
  file(path: string): Promise<Blob>;
  stream(path: string): Promise<ReadableStream<Uint8Array>>;
}

export interface StoreOptions {
  /** Folder that holds the packs (tests use their own); default OPFS root/model-packs. */
  root?: FileSystemDirectoryHandle;
}

export async function packsRoot(options: StoreOptions = {}): Promise<FileSystemDirectoryHandle> {
  if (options.root) return options.root;
  if (!navigator.storage?.getDirectory) {
    throw new ModelPackError(
      'storage',
      'This browser cannot store model packs (no Origin Private File System). Use a current Chrome, Edge or Chromium, outside a private window.',
    );
  }
  try {
    const opfs = await navigator.storage.getDirectory();
    return await opfs.getDirectoryHandle(PACKS_DIR, { create: true });
  } catch (cause) {
    throw new ModelPackError(
      'storage',
      'This browser refused to open its storage for model packs (a private window or blocked site data?). Allow site data and reload.',
      { cause },
    );
  }
}

type DirWithKeys = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
async function names(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const out: string[] = [];
  for await (const n of (dir as DirWithKeys).keys()) out.push(n);
  return out.sort();
}

async function optionalDir(parent: FileSystemDirectoryHandle, name: string): Promise<FileSystemDirectoryHandle | null> {
  try {
    return await parent.getDirectoryHandle(name);
  } catch (e) {
    if (e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError')) return null;
    throw e;
  }
}

async function readText(dir: FileSystemDirectoryHandle, name: string): Promise<string | null> {
  try {
    return await (await (await dir.getFileHandle(name)).getFile()).text();
  } catch (e) {
    if (e instanceof DOMException && e.name === 'NotFoundError') return null;
    throw e;
  }
}

/** Writes a small file whole; the writable's close() makes the replacement atomic. */
export async function writeText(dir: FileSystemDirectoryHandle, name: string, text: string): Promise<void> {
  const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
  await w.write(text);
  await w.close();
}

function parseRecord(text: string | null): PackRecord | null {
  if (!text) return null;
  try {
    const r = JSON.parse(text) as PackRecord;
    return r && r.version === 1 && typeof r.id === 'string' && Array.isArray(r.files) && Array.isArray(r.verified) ? r : null;
  } catch {
    return null;
  }
}

export async function readRecord(dir: FileSystemDirectoryHandle): Promise<PackRecord | null> {
  return parseRecord(await readText(dir, 'record.json'));
}

export async function writeRecord(dir: FileSystemDirectoryHandle, record: PackRecord): Promise<void> {
  await writeText(dir, 'record.json', JSON.stringify({ ...record, updatedAt: Date.now() }));
}

/** Every pack with a readable record, installed or still installing (resumable). */
export async function listPacks(options: StoreOptions = {}): Promise<PackRecord[]> {
  const root = await packsRoot(options);
  const out: PackRecord[] = [];
  for (const id of await names(root)) {
    const dir = await optionalDir(root, id);
    const rec = dir && (await readRecord(dir));
    if (rec && rec.id === id) out.push(rec);
  }
  return out;
}

/**
 * The installed pack of that name (and variant, when given) to run: the most recently updated
 * one if several variants are installed. Null when none is complete.
 */
export async function findInstalledPack(name: string, variant?: Precision, options: StoreOptions = {}): Promise<PackRecord | null> {
  const found = (await listPacks(options)).filter((p) => p.state === 'installed' && p.name === name && (!variant || p.variant === variant));
  return found.sort((a, b) => b.updatedAt - a.updatedAt)[0] ?? null;
}

/** Deletes a pack and everything stored for it; resolves once it is gone. */
export async function removePack(id: string, options: StoreOptions = {}): Promise<void> {
  const root = await packsRoot(options);
  try {
    await root.removeEntry(id, { recursive: true });
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
  }
}

// --- per-file segments -----------------------------------------------------------------------

/** Folder name of a pack file: the manifest path with '/' escaped (paths are validated plain). */
export const fileDirName = (path: string) => encodeURIComponent(path);

export async function fileDir(
  packDir: FileSystemDirectoryHandle,
  path: string,
  create: boolean,
): Promise<FileSystemDirectoryHandle | null> {
  const data = create ? await packDir.getDirectoryHandle('data', { create: true }) : await optionalDir(packDir, 'data');
  if (!data) return null;
  return create ? data.getDirectoryHandle(fileDirName(path), { create: true }) : optionalDir(data, fileDirName(path));
}

/** The segments stored for a file, in order. */
export async function segments(packDir: FileSystemDirectoryHandle, path: string): Promise<File[]> {
  const dir = await fileDir(packDir, path, false);
  if (!dir) return [];
  const out: File[] = [];
  for (const n of await names(dir)) if (/^\d{6}$/.test(n)) out.push(await (await dir.getFileHandle(n)).getFile());
  return out;
}

export async function deleteFile(packDir: FileSystemDirectoryHandle, path: string): Promise<void> {
  const data = await optionalDir(packDir, 'data');
  if (!data) return;
  try {
    await data.removeEntry(fileDirName(path), { recursive: true });
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
  }
}

/** Opens the next segment of a file for writing (committed when the writable closes). */
export async function nextSegment(packDir: FileSystemDirectoryHandle, path: string): Promise<FileSystemWritableFileStream> {
  const dir = (await fileDir(packDir, path, true))!;
  const existing = (await names(dir)).filter((n) => /^\d{6}$/.test(n));
  const n = existing.length ? Number(existing[existing.length - 1]) + 1 : 0;
  return (await dir.getFileHandle(String(n).padStart(6, '0'), { create: true })).createWritable();
}

// --- opening an installed pack -----------------------------------------------------------------

export async function openPack(id: string, options: StoreOptions = {}): Promise<InstalledPack> {
  const root = await packsRoot(options);
  const dir = await optionalDir(root, id);
  const record = dir && (await readRecord(dir));
  if (!dir || !record || record.state !== 'installed') {
    throw new ModelPackError(
      'not-installed',
      record
        ? `The model pack "${record.name}" (${record.variant}) is not completely installed. Resume or reinstall it in Model packs.`
        : 'This model pack is not installed. Install it in Model packs.',
    );
  }
  const manifestText = await readText(dir, 'manifest.json');
  if (manifestText === null)
    throw new ModelPackError('not-installed', `The stored manifest of "${record.name}" is missing. Remove the pack and install it again.`);
  const manifest = parseManifest(manifestText);
  const byPath = new Map(record.files.map((f) => [f.path, f]));
  const file = async (path: string): Promise<Blob> => {
    const entry = byPath.get(path);
    if (!entry)
      throw new ModelPackError('not-installed', `The installed ${record.variant} pack "${record.name}" has no file ${path}.`, { path });
    const parts = await segments(dir, path);
    const blob = new Blob(parts);
    if (blob.size !== entry.bytes) {
      throw new ModelPackError(
        'integrity',
        `The stored copy of ${path} is damaged (${blob.size} of ${entry.bytes} bytes). Remove the pack and install it again.`,
        { path },
      );
    }
    return blob;
  };
  return {
    id,
    manifest,
    variant: record.variant,
    files: record.files,
    file,
    read: async (path) => {
      const blob = await file(path);
      // One ArrayBuffer cannot hold more than about 2 GB in browsers: big files are read in parts.
      if (blob.size > MAX_READ_BYTES) throw new RangeError(`${path} is ${blob.size} bytes: read it with file() or stream(), not read()`);
      return new Uint8Array(await blob.arrayBuffer());
    },
    stream: async (path) => (await file(path)).stream() as ReadableStream<Uint8Array>,
  };
}
