/**
 * Errors of installing and opening model packs. Each message says what happened and what to do;
 * `reason` lets tests and the UI tell the cases apart without parsing text, `path` names the
 * pack file concerned when there is one.
 */
import { AppError } from '../errors';

export type PackErrorReason =
  | 'address' // the URL the user entered cannot be used
  | 'network' // unreachable, offline, or refused by CORS (the browser cannot tell these apart)
  | 'http' // the server answered with an error status
  | 'interrupted' // the body stopped before its end: Resume continues from the bytes kept
  | 'integrity' // sha256 or size differs from the manifest
  | 'missing-file' // a local folder lacks a file the manifest lists
  | 'variant' // the asked precision is not in the pack or not runnable here
  | 'not-installed' // openPack on a pack that is absent or incomplete
  | 'mismatch' // the manifest's plan, its segments and the ONNX files do not fit together
  | 'storage'; // OPFS unavailable or a write failed

export class ModelPackError extends AppError {
  readonly reason: PackErrorReason;
  readonly path?: string;
  constructor(reason: PackErrorReason, message: string, options?: { path?: string; cause?: unknown }) {
    super('model-pack', message, options);
    this.name = 'ModelPackError';
    this.reason = reason;
    this.path = options?.path;
  }
}

/** Not enough browser storage for the bytes still to download (checked before anything is written). */
export class StorageQuotaError extends AppError {
  readonly neededBytes: number;
  readonly availableBytes: number;
  constructor(neededBytes: number, availableBytes: number, options?: { cause?: unknown }) {
    super(
      'storage',
      `Not enough storage for this model pack: it needs ${formatBytes(neededBytes)} and this browser allows ` +
        `${formatBytes(Math.max(0, availableBytes))} more for this site. Free space on the disk, remove other ` +
        'model packs, or choose a smaller variant.',
      options,
    );
    this.name = 'StorageQuotaError';
    this.neededBytes = neededBytes;
    this.availableBytes = availableBytes;
  }
}

/** 1536 -> "1.5 KB", decimal units as disks and browsers' storage pages show them. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}
