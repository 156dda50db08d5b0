/**
 * Every failure the user can see, as a named error with a stable `code` and a message that
 * says what happened and what to do. UI code shows `message`; tests match on `code`.
 */
export type ErrorCode =
  | 'webgpu-unavailable'
  | 'webgpu-adapter-too-small'
  | 'gpu-device-lost'
  | 'gpu-out-of-memory'
  | 'kernel-input'
  | 'image-decode'
  | 'image-too-large'
  | 'image-empty'
  | 'project-file'
  | 'project-version'
  | 'flow-file'
  | 'storage'
  | 'model-pack'
  | 'encode'
  | 'video-decode'
  | 'video-codec'
  | 'video-no-track'
  | 'video-empty'
  | 'video-too-short'
  | 'engine-unavailable'
  | 'nothing-to-animate'
  | 'internal'
  | 'aborted';

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'AppError';
  }
}

export class WebGpuUnavailableError extends AppError {
  constructor(detail: string) {
    super(
      'webgpu-unavailable',
      `WebGPU is not available (${detail}). Use a current Chrome, Edge or Chromium ` +
        '(113 or newer) with hardware acceleration on; on Linux start it with ' +
        '--enable-unsafe-webgpu (and --enable-features=Vulkan). The editor still works; ' +
        'generating needs WebGPU.',
    );
    this.name = 'WebGpuUnavailableError';
  }
}

export class DeviceLostError extends AppError {
  constructor(reason: string) {
    super(
      'gpu-device-lost',
      `The GPU device was lost (${reason}); this is often out of memory. Your image, ` +
        'trajectories and brush are kept; generation restarts on a new device.',
    );
    this.name = 'DeviceLostError';
  }
}

/**
 * The GPU had no memory left for a buffer or a model in the middle of a job (WebGPU's
 * GPUOutOfMemoryError, from an error scope or thrown, or an allocation failure reported by ONNX
 * Runtime). The job's buffers are freed; the project was never touched.
 */
export class OutOfMemoryError extends AppError {
  /**
   * `pack`: the model pack the job ran, its variant and the smaller variants the pack has that
   * this GPU can run, so the message can name them; without it the advice is general.
   * `message`: an OutOfMemoryError's message as the worker sent it (the client rebuilds it).
   */
  constructor(options: { cause?: unknown; pack?: { variant: string; smaller: readonly string[] }; message?: string } = {}) {
    super('gpu-out-of-memory', options.message ?? outOfMemoryMessage(options.pack), { cause: options.cause });
    this.name = 'OutOfMemoryError';
  }
}

function outOfMemoryMessage(pack?: { variant: string; smaller: readonly string[] }): string {
  const head = 'The GPU ran out of memory during the job. Your image, trajectories and brush are kept. ';
  if (!pack) {
    return (
      head +
      'Choose a smaller precision for the model pack in Model packs (q8 or q4c8 instead of fp32, q4f16 or q4c8f16 instead of fp16), then Generate again.'
    );
  }
  if (pack.smaller.length === 0) {
    return (
      head +
      `The model pack already runs in its smallest precision here (${pack.variant}): close other tabs or programs that use the GPU, ` +
      'or use the Classical engine, then Generate again.'
    );
  }
  return (
    head +
    `The model pack runs in ${pack.variant} here: install a smaller precision of it (${pack.smaller.join(' or ')}) in Model packs ` +
    '(Variant, then install), then Generate again.'
  );
}

/** Words with which WebGPU, ONNX Runtime and JS engines report an allocation that failed. */
const OUT_OF_MEMORY_WORDS = /out of memory|out-of-memory|outofmemory|\boom\b|failed to allocate|allocation failed|could not allocate/i;

/**
 * Whether `e` (or what it wraps, through `cause`) is an out-of-memory failure: a
 * GPUOutOfMemoryError, or an error of someone else's (ORT, the browser) whose message says so.
 * Our own AppErrors are judged by their code, never by their words (DeviceLostError's message
 * mentions memory).
 */
export function isOutOfMemory(e: unknown): boolean {
  for (let x = e, depth = 0; x && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    if (x instanceof AppError) {
      if (x.code === 'gpu-out-of-memory') return true;
      continue;
    }
    const oomClass = (globalThis as { GPUOutOfMemoryError?: abstract new (...a: never[]) => object }).GPUOutOfMemoryError;
    if (oomClass && x instanceof oomClass) return true;
    const message =
      x instanceof Error || (typeof x === 'object' && 'message' in x) ? String((x as { message: unknown }).message) : String(x);
    if (OUT_OF_MEMORY_WORDS.test(message)) return true;
  }
  return false;
}

/** Bad arguments to a GPU kernel, raised before anything is dispatched. */
export class KernelInputError extends AppError {
  readonly kernel: string;
  readonly argument: string;
  constructor(kernel: string, argument: string, problem: string) {
    super('kernel-input', `${kernel}: argument '${argument}' ${problem}`);
    this.name = 'KernelInputError';
    this.kernel = kernel;
    this.argument = argument;
  }
}

export class AbortError extends AppError {
  constructor() {
    super('aborted', 'Cancelled.');
    this.name = 'AbortError';
  }
}

export function isAbort(e: unknown): boolean {
  return (e instanceof AppError && e.code === 'aborted') || (e instanceof DOMException && e.name === 'AbortError');
}

/** Encoding or muxing a video failed, or no encoder for the asked container exists in this browser. */
export class EncodeError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('encode', message, options);
    this.name = 'EncodeError';
  }
}

/** A video could not be read: unknown container, no video track, or a codec this browser cannot decode. */
export class VideoDecodeError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('video-decode', message, options);
    this.name = 'VideoDecodeError';
  }
}

/** The source video's codec cannot be decoded by this browser (or is not known at all). */
export class VideoCodecError extends AppError {
  constructor(codec: string | null) {
    super(
      'video-codec',
      codec
        ? `This browser cannot decode the video's ${codec} codec. Convert it to H.264 MP4 or VP9 WebM and load it again.`
        : 'The video uses a codec this app does not know. Convert it to H.264 MP4 or VP9 WebM and load it again.',
    );
    this.name = 'VideoCodecError';
  }
}

/** The file is a readable container with no video in it (an audio-only file). */
export class VideoNoTrackError extends AppError {
  constructor(name: string) {
    super('video-no-track', `"${name}" has no video in it (only sound?). Load a video file: MP4, WebM or MOV.`);
    this.name = 'VideoNoTrackError';
  }
}

/** The video track holds no frame at all. */
export class VideoEmptyError extends AppError {
  constructor(name: string) {
    super('video-empty', `"${name}" has no frames: the video is empty. Load another video.`);
    this.name = 'VideoEmptyError';
  }
}

/** Fewer frames exist from the start time with the chosen stride than the clip needs. */
export class VideoTooShortError extends AppError {
  readonly available: number;
  readonly wanted: number;
  constructor(available: number, wanted: number) {
    super(
      'video-too-short',
      `The video has only ${available} frame${available === 1 ? '' : 's'} from the start time with this step, and the clip needs ${wanted}. ` +
        'Start earlier, take every frame (step 1), or make fewer frames.',
    );
    this.name = 'VideoTooShortError';
    this.available = available;
    this.wanted = wanted;
  }
}

/** The scene has nothing that moves (no trajectory with two points): says what to add. */
export class NothingToAnimateError extends AppError {
  constructor() {
    super(
      'nothing-to-animate',
      'Nothing moves yet. Draw a trajectory (T) to make something move: click where it starts, ' +
        'then where it goes, and press Enter. Anchors and brush paint only hold things still.',
    );
    this.name = 'NothingToAnimateError';
  }
}

/** The browser's storage for this site is full (or its quota would be exceeded): says what is kept and what to do. */
export class StorageFullError extends AppError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(
      'storage',
      `${what} This browser's storage for this site is full. Export the video to keep it, or free space (clear this site's data in the browser settings, or remove model packs).`,
      options,
    );
    this.name = 'StorageFullError';
  }
}

/** Codes whose message names internals (kernels, arguments, shapes): never shown to the user. */
const INTERNAL_CODES: ReadonlySet<ErrorCode> = new Set(['kernel-input', 'internal']);

export const GENERIC_FAILURE = 'Something went wrong on the GPU. Your work is kept; try again, and reload the page if it keeps failing.';

/**
 * What a failure may show the user: an out-of-memory failure (however it was wrapped) as
 * OutOfMemoryError, AppErrors with a user-facing code as they are, anything
 * else (a kernel argument error, a WebGPU validation error, a bug) as a generic AppError. The
 * caller logs the original to the console, where the detail stays.
 */
export function toUserError(e: unknown): AppError {
  if (isAbort(e)) return e instanceof AbortError ? e : new AbortError();
  if (e instanceof AppError && e.code === 'gpu-out-of-memory') return e;
  if (isOutOfMemory(e)) return new OutOfMemoryError({ cause: e });
  if (e instanceof AppError && !INTERNAL_CODES.has(e.code)) return e;
  return new AppError('internal', GENERIC_FAILURE, { cause: e });
}
