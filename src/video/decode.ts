/**
 * Video file -> RGBA frames, with mediabunny's demuxers and the browser's WebCodecs decoders.
 * Used to verify exports and as the source of video-to-video (V2V) input. Frames come back as
 * ImageData in presentation order, at the track's display size (rotation applied).
 */
import { ALL_FORMATS, BlobSource, Input, type InputVideoTrack, VideoSampleSink } from 'mediabunny';
import { AbortError, AppError, VideoCodecError, VideoDecodeError, VideoEmptyError, VideoNoTrackError, VideoTooShortError } from '../errors';
import type { StageProgress } from './encode';

export interface DecodeOptions {
  /** Stop after this many frames (default: all). Bounds memory: each 512x320 frame is 640 KiB. */
  maxFrames?: number;
  signal?: AbortSignal;
  /** Fired after each decoded frame; stage 'decode'. The total is min(maxFrames, packet count). */
  onProgress?: (p: StageProgress) => void;
}

export interface DecodedVideo {
  frames: ImageData[];
  /** Presentation timestamp of each returned frame, seconds. */
  timestamps: number[];
  /** mediabunny's codec name ('avc', 'vp9', 'av1', 'vp8', 'hevc', ...). */
  codec: string;
  /** Codec parameter string from the file, e.g. 'avc1.42001f', when known. */
  codecString: string | null;
  /** Container MIME type, e.g. 'video/mp4'. */
  mimeType: string;
  /** Average frame rate over the whole track (packets per second). */
  fps: number;
  /** End of the last frame, seconds (computed from the packets). */
  duration: number;
  /** Duration the container's header states, seconds, or null when it states none. */
  metadataDuration: number | null;
  /** Number of frames in the whole track (not only the returned ones). */
  frameCount: number;
  width: number;
  height: number;
}

export async function decodeVideo(blob: Blob, options: DecodeOptions = {}): Promise<DecodedVideo> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const input = new Input({ source: new BlobSource(blob), formats: ALL_FORMATS });
  try {
    if (!(await input.canRead())) throw new VideoDecodeError('This file is not a video format the app can read: use MP4, WebM or MOV.');
    const track = await input.getPrimaryVideoTrack();
    if (!track) throw new VideoDecodeError('This file has no video track.');
    const codec = await track.getCodec();
    if (!codec) throw new VideoDecodeError('The video uses a codec the app does not know.');
    if (!(await track.canDecode()))
      throw new VideoDecodeError(`This browser cannot decode ${codec} video: convert it to H.264 MP4 or VP9 WebM.`);
    const [width, height, stats, duration, codecString, mimeType, metadataDuration] = await Promise.all([
      track.getDisplayWidth(),
      track.getDisplayHeight(),
      track.computePacketStats(),
      track.computeDuration(),
      track.getCodecParameterString(),
      input.getMimeType(),
      track.getDurationFromMetadata(),
    ]);
    const limit = Math.min(options.maxFrames ?? Infinity, stats.packetCount);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new VideoDecodeError('Could not create a 2D canvas to read video frames.');
    const frames: ImageData[] = [];
    const timestamps: number[] = [];
    const sink = new VideoSampleSink(track);
    for await (const sample of sink.samples()) {
      try {
        if (signal?.aborted) throw new AbortError();
        ctx.clearRect(0, 0, width, height);
        sample.draw(ctx, 0, 0, width, height);
        frames.push(ctx.getImageData(0, 0, width, height));
        timestamps.push(sample.timestamp);
      } finally {
        sample.close();
      }
      onProgress?.({ stage: 'decode', fraction: frames.length / limit });
      if (frames.length >= limit) break;
    }
    return {
      frames,
      timestamps,
      codec,
      codecString,
      mimeType,
      fps: stats.averagePacketRate,
      duration,
      metadataDuration,
      frameCount: stats.packetCount,
      width,
      height,
    };
  } catch (e) {
    if (e instanceof AbortError || signal?.aborted) throw new AbortError();
    if (e instanceof VideoDecodeError) throw e;
    throw new VideoDecodeError(`The video could not be decoded: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  } finally {
    input.dispose();
  }
}

/** What a source video for video-to-video holds, read from its container (and its first frame). */
export interface VideoInfo {
  width: number;
  height: number;
  /** End of the last frame, seconds. */
  duration: number;
  /** Frames in the whole track. */
  frameCount: number;
  /** Average frame rate, frames per second. */
  fps: number;
  /** mediabunny's codec name ('avc', 'vp9', ...). */
  codec: string;
}

export interface ReadFramesOptions {
  /** First frame: the one shown at this time, seconds (default 0). */
  startTime?: number;
  /** Take every `stride`-th frame from there (default 1). */
  stride?: number;
  /** Frames to return; fewer available is a VideoTooShortError. */
  count: number;
  /** Output size: each frame covers it (scaled, centred, cropped), as images cover the canvas. */
  width: number;
  height: number;
  signal?: AbortSignal;
  onProgress?: (p: StageProgress) => void;
}

function damaged(name: string): string {
  return `"${name}" could not be decoded; the file may be damaged. Try another file or convert it to H.264 MP4.`;
}

/**
 * Opens `blob`, checks that it holds a decodable video track with frames, and runs `body` on
 * that track. Bad input becomes a named error: VideoDecodeError (not a video container, or
 * damaged), VideoNoTrackError (audio only), VideoCodecError, VideoEmptyError.
 */
async function withVideoTrack<T>(
  blob: Blob,
  name: string,
  signal: AbortSignal | undefined,
  body: (track: InputVideoTrack) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  if (blob.size === 0) throw new VideoEmptyError(name);
  const input = new Input({ source: new BlobSource(blob), formats: ALL_FORMATS });
  try {
    if (!(await input.canRead()))
      throw new VideoDecodeError(`"${name}" is not a video the app can read, or it is damaged: use an MP4, WebM or MOV file.`);
    const track = await input.getPrimaryVideoTrack();
    if (!track) {
      // No track at all: the index is missing (a cut-off download); only sound: an audio file.
      if ((await input.getTracks()).length === 0)
        throw new VideoDecodeError(`"${name}" is damaged: no track can be read from it (is the file complete?).`);
      throw new VideoNoTrackError(name);
    }
    const codec = await track.getCodec();
    if (!codec) throw new VideoCodecError(null);
    if (!(await track.canDecode())) throw new VideoCodecError(codec);
    return await body(track);
  } catch (e) {
    if (e instanceof AbortError || signal?.aborted) throw new AbortError();
    if (e instanceof AppError) throw e;
    throw new VideoDecodeError(damaged(name), { cause: e });
  } finally {
    input.dispose();
  }
}

/**
 * Reads a source video's size, length and frame rate, and decodes its first frame, so a file
 * whose frames cannot be decoded is refused when it is loaded, not at Generate.
 */
export function probeVideo(blob: Blob, name: string, signal?: AbortSignal): Promise<VideoInfo> {
  return withVideoTrack(blob, name, signal, async (track) => {
    const [width, height, stats, duration, codec] = await Promise.all([
      track.getDisplayWidth(),
      track.getDisplayHeight(),
      track.computePacketStats(),
      track.computeDuration(),
      track.getCodec(),
    ]);
    if (stats.packetCount === 0 || width <= 0 || height <= 0) throw new VideoEmptyError(name);
    const sink = new VideoSampleSink(track);
    let decoded = false;
    for await (const sample of sink.samples()) {
      decoded = true;
      sample.close();
      break;
    }
    if (!decoded) throw new VideoDecodeError(damaged(name));
    return { width, height, duration, frameCount: stats.packetCount, fps: stats.averagePacketRate, codec: codec ?? '' };
  });
}

/**
 * `count` frames of a video from `startTime`, every `stride`-th one, each covering
 * `width` x `height` (scaled and centred, the excess cropped), RGBA. Progress stage 'decode'.
 */
export function readVideoFrames(
  blob: Blob,
  name: string,
  options: ReadFramesOptions,
): Promise<{ frames: ImageData[]; timestamps: number[] }> {
  const { signal, onProgress, count, width, height } = options;
  const stride = Math.max(1, Math.round(options.stride ?? 1));
  const startTime = Math.max(0, options.startTime ?? 0);
  return withVideoTrack(blob, name, signal, async (track) => {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new VideoDecodeError('This browser cannot draw video frames off-screen (OffscreenCanvas 2D).');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    const frames: ImageData[] = [];
    const timestamps: number[] = [];
    const sink = new VideoSampleSink(track);
    // The frame on screen at startTime starts at or before it: begin there, as a player would.
    const first = (await sink.getSample(startTime)) ?? null;
    const from = first ? first.timestamp : startTime;
    first?.close();
    let index = 0;
    let seen = 0;
    for await (const sample of sink.samples(from)) {
      try {
        if (signal?.aborted) throw new AbortError();
        seen++;
        if (index++ % stride !== 0) continue;
        ctx.clearRect(0, 0, width, height);
        sample.drawWithFit(ctx, { fit: 'cover' });
        frames.push(ctx.getImageData(0, 0, width, height));
        timestamps.push(sample.timestamp);
      } finally {
        sample.close();
      }
      onProgress?.({ stage: 'decode', fraction: frames.length / count });
      if (frames.length >= count) break;
    }
    if (frames.length < count) {
      // Fewer frames decoded than the file lists from there: its frame data is cut off or damaged.
      const stats = await track.computePacketStats();
      const listed = stats.packetCount - Math.round(Math.max(0, from - (await track.getFirstTimestamp())) * stats.averagePacketRate);
      if (seen < listed - 1) throw new VideoDecodeError(damaged(name));
      if (stats.packetCount === 0) throw new VideoEmptyError(name);
      throw new VideoTooShortError(frames.length, count);
    }
    return { frames, timestamps };
  });
}
