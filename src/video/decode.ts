/**
 * Video file -> RGBA frames, with mediabunny's demuxers and the browser's WebCodecs decoders.
 * Used to verify exports and as the source of video-to-video (V2V) input. Frames come back as
 * ImageData in presentation order, at the track's display size (rotation applied).
 */
import { ALL_FORMATS, BlobSource, Input, VideoSampleSink } from 'mediabunny';
import { AbortError, VideoDecodeError } from '../errors';
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
    if (!(await track.canDecode())) throw new VideoDecodeError(`This browser cannot decode ${codec} video: convert it to H.264 MP4 or VP9 WebM.`);
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
    return { frames, timestamps, codec, codecString, mimeType, fps: stats.averagePacketRate, duration, metadataDuration, frameCount: stats.packetCount, width, height };
  } catch (e) {
    if (e instanceof AbortError || signal?.aborted) throw new AbortError();
    if (e instanceof VideoDecodeError) throw e;
    throw new VideoDecodeError(`The video could not be decoded: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  } finally {
    input.dispose();
  }
}
