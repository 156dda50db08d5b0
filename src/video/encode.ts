/**
 * Frames -> MP4 or WebM, with the browser's WebCodecs encoders muxed by mediabunny.
 *
 * MP4 prefers H.264 (plays everywhere) and falls back to VP9, then AV1, when this browser has
 * no H.264 encoder; WebM uses VP9, then AV1, then VP8. Frame k is shown from k/fps for 1/fps
 * seconds, so a 16-frame clip at 8 fps lasts exactly 2 s. Frames are pushed one at a time and
 * the encoder queue and the muxer are awaited, so at most a few frames are in flight.
 */
import {
  BufferTarget,
  EncodedPacket,
  EncodedVideoPacketSource,
  Mp4OutputFormat,
  Output,
  WebMOutputFormat,
  type QualityLevel,
  type VideoCodec,
} from 'mediabunny';
import { AbortError, EncodeError } from '../errors';
import { codecLabel } from './names';

export type VideoContainer = 'mp4' | 'webm';
/** The codecs we offer (mediabunny's names: 'avc' is H.264). */
export type ExportCodec = 'avc' | 'vp9' | 'av1' | 'vp8';
/** A frame as the pipeline, the player or a test hands it over. VideoFrames are not closed here. */
export type EncodableFrame = ImageBitmap | VideoFrame | ImageData;
/** Bits per second, or a level turned into a bitrate for the frame size, rate and codec (see targetBitrate). */
export type VideoQuality = number | QualityLevel;

/** Progress of a long operation: 0..1, tagged with the stage that is running. */
export interface StageProgress {
  stage: string;
  fraction: number;
}

export interface EncodeOptions {
  container: VideoContainer;
  /** Codec to use; default: the first one this browser can encode for the container (see CODEC_PREFERENCE). */
  codec?: ExportCodec;
  /** Frames per second, 1..120. */
  fps: number;
  /** Target bitrate in bits/s or a quality level; default 'very-high' (clips are short: 2 Mbit/s at 512x320, 8 fps, H.264). */
  bitrate?: VideoQuality;
  /** Interval between key frames in seconds; default 2 (mediabunny's default). */
  keyFrameInterval?: number;
  signal?: AbortSignal;
  /** Fired after each frame is handed to the encoder and once when the file is finished; stage 'encode'. */
  onProgress?: (p: StageProgress) => void;
  /** When given, `fileName` is set to `<baseName>_<codec>.<ext>` (e.g. from `videoBaseName`). */
  baseName?: string;
}

export interface EncodedVideo {
  blob: Blob;
  codec: ExportCodec;
  /** Full MIME type with the codec string, e.g. `video/mp4; codecs="avc1.42001f"`. */
  mimeType: string;
  fileName?: string;
  width: number;
  height: number;
  fps: number;
  frameCount: number;
}

/** Codecs tried in order when the caller does not name one. */
export const CODEC_PREFERENCE: Record<VideoContainer, readonly ExportCodec[]> = {
  mp4: ['avc', 'vp9', 'av1'],
  webm: ['vp9', 'av1', 'vp8'],
};

export const MAX_FPS = 120;
export const DEFAULT_QUALITY: QualityLevel = 'very-high';

function frameSize(f: EncodableFrame): { width: number; height: number } {
  if ('displayWidth' in f) return { width: f.displayWidth, height: f.displayHeight };
  return { width: f.width, height: f.height };
}

function checkOptions(frames: readonly EncodableFrame[], o: EncodeOptions): { width: number; height: number } {
  if (o.container !== 'mp4' && o.container !== 'webm')
    throw new EncodeError(`Unknown container '${String(o.container)}': use 'mp4' or 'webm'.`);
  if (frames.length === 0) throw new EncodeError('There are no frames to encode: generate a video first.');
  if (!(o.fps > 0 && o.fps <= MAX_FPS)) throw new EncodeError(`Frame rate ${o.fps} is out of range: use 1 to ${MAX_FPS} fps.`);
  if (typeof o.bitrate === 'number' && !(o.bitrate >= 10_000))
    throw new EncodeError(`Bitrate ${o.bitrate} bit/s is too low: use at least 10000.`);
  if (o.codec && !CODEC_PREFERENCE[o.container].includes(o.codec)) {
    throw new EncodeError(
      `${codecLabel(o.codec)} cannot go into ${o.container.toUpperCase()} here: use ${CODEC_PREFERENCE[o.container].map(codecLabel).join(', ')}.`,
    );
  }
  const { width, height } = frameSize(frames[0]);
  // 4:2:0 chroma halves both dimensions; H.264 encoders reject odd sizes outright.
  if (width % 2 || height % 2 || width < 2 || height < 2)
    throw new EncodeError(`Frame size ${width}x${height} must be even in both dimensions to encode video.`);
  frames.forEach((f, i) => {
    const s = frameSize(f);
    if (s.width !== width || s.height !== height)
      throw new EncodeError(`Frame ${i} is ${s.width}x${s.height} but frame 0 is ${width}x${height}: all frames must have one size.`);
  });
  return { width, height };
}

/** Bits per pixel per frame for each quality level (H.264; scaled per codec below, by what real frames needed for about 37 dB here). */
const BITS_PER_PIXEL: Record<QualityLevel, number> = { 'very-low': 0.07, low: 0.15, medium: 0.35, high: 0.75, 'very-high': 1.5 };
const CODEC_EFFICIENCY: Record<ExportCodec, number> = { avc: 1, vp8: 1.2, vp9: 1, av1: 0.8 };

/** Target bitrate in bit/s for a quality at this size and rate (a number passes through). */
export function targetBitrate(quality: VideoQuality, codec: ExportCodec, width: number, height: number, fps: number): number {
  if (typeof quality === 'number') return quality;
  return Math.max(100_000, Math.round(BITS_PER_PIXEL[quality] * CODEC_EFFICIENCY[codec] * width * height * fps));
}

/**
 * WebCodecs codec strings to try, best first. H.264 High can fail on software encoders that only
 * do Baseline, so Main and Baseline follow; levels are high enough for 1080p.
 */
const CODEC_STRINGS: Record<ExportCodec, readonly string[]> = {
  avc: ['avc1.640028', 'avc1.4d0028', 'avc1.42002a', 'avc1.42001f'],
  vp9: ['vp09.00.40.08', 'vp09.00.31.08'],
  av1: ['av01.0.08M.08', 'av01.0.05M.08'],
  vp8: ['vp8'],
};

interface ResolvedEncoder {
  codec: ExportCodec;
  config: VideoEncoderConfig;
}

/** isConfigSupported answers, remembered: each query can start a trial encoder (~0.1 s in software). */
const supportCache = new Map<string, Promise<boolean>>();
function isSupported(config: VideoEncoderConfig): Promise<boolean> {
  const key = JSON.stringify(config);
  let answer = supportCache.get(key);
  if (!answer) {
    answer = VideoEncoder.isConfigSupported(config).then(
      (r) => !!r.supported,
      () => false, // a malformed or unknown codec string: not supported
    );
    supportCache.set(key, answer);
  }
  return answer;
}

async function supportedConfig(
  codec: ExportCodec,
  width: number,
  height: number,
  fps: number,
  bitrate: number,
): Promise<VideoEncoderConfig | null> {
  for (const codecString of CODEC_STRINGS[codec]) {
    const config: VideoEncoderConfig = {
      codec: codecString,
      width,
      height,
      bitrate,
      framerate: fps,
      bitrateMode: 'variable',
      latencyMode: 'quality',
      ...(codec === 'avc' ? { avc: { format: 'avc' as const } } : {}),
    };
    if (await isSupported(config)) return config;
  }
  return null;
}

/** The first codec (with a working encoder config) among `candidates` at this size, rate and quality, or null. */
export async function firstEncodableCodec(
  candidates: readonly ExportCodec[],
  width: number,
  height: number,
  fps = 8,
  quality: VideoQuality = DEFAULT_QUALITY,
): Promise<ResolvedEncoder | null> {
  if (typeof VideoEncoder === 'undefined') return null;
  for (const codec of candidates) {
    const config = await supportedConfig(codec, width, height, fps, targetBitrate(quality, codec, width, height, fps));
    if (config) return { codec, config };
  }
  return null;
}

/** Which codec `encodeVideo` would use for this container and size (for labels and file names before encoding). */
export async function resolveCodec(
  container: VideoContainer,
  width: number,
  height: number,
  fps = 8,
  codec?: ExportCodec,
  quality?: VideoQuality,
): Promise<ResolvedEncoder> {
  const candidates = codec ? [codec] : CODEC_PREFERENCE[container];
  const chosen = await firstEncodableCodec(candidates, width, height, fps, quality);
  if (!chosen) {
    throw new EncodeError(
      typeof VideoEncoder === 'undefined'
        ? 'This browser has no WebCodecs video encoder: use a current Chrome, Edge or Chromium, or export PNG frames.'
        : `This browser cannot encode ${candidates.map(codecLabel).join(', ')} at ${width}x${height}: try the other container or export PNG frames.`,
    );
  }
  return chosen;
}

function toVideoFrame(f: EncodableFrame, timestampUs: number, durationUs: number): VideoFrame {
  if (f instanceof ImageData) {
    return new VideoFrame(f.data, {
      format: 'RGBA',
      codedWidth: f.width,
      codedHeight: f.height,
      timestamp: timestampUs,
      duration: durationUs,
    });
  }
  // A new VideoFrame over the same pixels: closing it leaves the caller's bitmap or frame intact.
  return new VideoFrame(f, { timestamp: timestampUs, duration: durationUs });
}

/**
 * Encodes `frames` (all one even size) into an MP4 or WebM file in memory.
 * Throws EncodeError (bad input, no encoder, encoder failure) or AbortError (signal).
 *
 * We drive WebCodecs' VideoEncoder ourselves (mediabunny only muxes) for one reason: software
 * rate control starts cold, and the first key frame comes out visibly worse than later ones
 * (measured: H.264 frame 0 of a Sintel frame at 35.0 dB whatever the bitrate, later key frames
 * 37+ dB). So frame 0 is encoded once to warm the rate control, that packet is dropped, and
 * frame 0 is encoded again as the real first key frame.
 */
export async function encodeVideo(frames: readonly EncodableFrame[], options: EncodeOptions): Promise<EncodedVideo> {
  const { signal, onProgress } = options;
  const { width, height } = checkOptions(frames, options);
  signal?.throwIfAborted();
  const fps = options.fps;
  const { codec, config } = await resolveCodec(options.container, width, height, fps, options.codec, options.bitrate ?? DEFAULT_QUALITY);
  signal?.throwIfAborted();

  const format = options.container === 'mp4' ? new Mp4OutputFormat({ fastStart: 'in-memory' }) : new WebMOutputFormat();
  const target = new BufferTarget();
  const output = new Output({ format, target });
  const source = new EncodedVideoPacketSource(codec as VideoCodec);
  output.addVideoTrack(source, { frameRate: fps });

  const keyEvery = Math.max(1, Math.round((options.keyFrameInterval ?? 2) * fps));
  const frameUs = 1e6 / fps;
  let encoderError: unknown = null;
  let primingMeta: EncodedVideoChunkMetadata | undefined;
  let chunksSeen = 0;
  let muxing: Promise<void> = Promise.resolve();
  const encoder = new VideoEncoder({
    output: (chunk, meta) => {
      if (chunksSeen++ === 0) {
        // The warm-up packet: keep its decoder config (the real key frame may not repeat it).
        primingMeta = meta;
        return;
      }
      const m = chunksSeen === 2 && !meta?.decoderConfig ? primingMeta : meta;
      const packet = EncodedPacket.fromEncodedChunk(chunk);
      muxing = muxing.then(() => source.add(packet, m));
    },
    error: (e) => {
      encoderError = e;
    },
  });
  const failed = () => encoderError ?? null;

  try {
    encoder.configure(config);
    await output.start();
    const encodeOne = (f: EncodableFrame, index: number, keyFrame: boolean) => {
      const vf = toVideoFrame(f, Math.round(index * frameUs), Math.round(frameUs));
      try {
        encoder.encode(vf, { keyFrame });
      } finally {
        vf.close();
      }
    };
    encodeOne(frames[0], 0, true); // warm-up, dropped in `output`
    for (let i = 0; i < frames.length; i++) {
      if (signal?.aborted) throw new AbortError();
      if (failed()) throw failed();
      encodeOne(frames[i], i, i % keyEvery === 0);
      // Back-pressure: keep at most two frames queued in the encoder and the muxer busy.
      while (encoder.encodeQueueSize > 2) await new Promise((r) => encoder.addEventListener('dequeue', r, { once: true }));
      await muxing;
      onProgress?.({ stage: 'encode', fraction: ((i + 1) / frames.length) * 0.95 });
    }
    await encoder.flush();
    await muxing;
    if (failed()) throw failed();
    if (signal?.aborted) throw new AbortError();
    if (chunksSeen !== frames.length + 1)
      throw new EncodeError(`The encoder returned ${chunksSeen - 1} packets for ${frames.length} frames.`);
    source.close();
    await output.finalize();
  } catch (e) {
    if (output.state !== 'finalized' && output.state !== 'canceled') void output.cancel().catch(() => {});
    if (e instanceof AbortError || signal?.aborted) throw new AbortError();
    if (e instanceof EncodeError) throw e;
    throw new EncodeError(`Encoding ${codecLabel(codec)} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  } finally {
    if (encoder.state !== 'closed') encoder.close();
  }
  const buffer = target.buffer;
  if (!buffer) throw new EncodeError('The encoder finished without producing a file.');
  const mimeType = await output.getMimeType();
  onProgress?.({ stage: 'encode', fraction: 1 });
  return {
    blob: new Blob([buffer], { type: mimeType }),
    codec,
    mimeType,
    fileName: options.baseName ? `${options.baseName}_${codecLabel(codec)}.${options.container}` : undefined,
    width,
    height,
    fps,
    frameCount: frames.length,
  };
}
