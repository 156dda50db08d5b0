/**
 * Every failure the user can see, as a named error with a stable `code` and a message that
 * says what happened and what to do. UI code shows `message`; tests match on `code`.
 */
export type ErrorCode =
  | 'webgpu-unavailable'
  | 'webgpu-adapter-too-small'
  | 'gpu-device-lost'
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
 * What a failure may show the user: AppErrors with a user-facing code as they are, anything
 * else (a kernel argument error, a WebGPU validation error, a bug) as a generic AppError. The
 * caller logs the original to the console, where the detail stays.
 */
export function toUserError(e: unknown): AppError {
  if (isAbort(e)) return e instanceof AbortError ? e : new AbortError();
  if (e instanceof AppError && !INTERNAL_CODES.has(e.code)) return e;
  return new AppError('internal', GENERIC_FAILURE, { cause: e });
}
