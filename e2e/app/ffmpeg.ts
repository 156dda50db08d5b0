/**
 * ffmpeg and ffprobe (Debian's) as the independent decoder of exported files: what the file
 * says about itself (codec, pixel format, colour range, frames, duration) and its frames
 * decoded to RGB the way ffmpeg-based players (VLC, mpv) convert them.
 */
import { execFileSync } from 'node:child_process';

function tool(name: 'ffmpeg' | 'ffprobe'): string {
  try {
    execFileSync(name, ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${name} is missing: install it with 'apt-get install -y ffmpeg' (.ci/run does).`);
  }
  return name;
}

export interface Probe {
  codec: string;
  pixFmt?: string;
  colorRange?: string;
  colorSpace?: string;
  width: number;
  height: number;
  frames: number;
  duration: number;
}

export function ffprobe(path: string): Probe {
  const out = JSON.parse(
    execFileSync(tool('ffprobe'), [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,pix_fmt,color_range,color_space,width,height,nb_read_frames:format=duration',
      '-of',
      'json',
      path,
    ]).toString(),
  );
  const s = out.streams[0];
  return {
    codec: s.codec_name,
    pixFmt: s.pix_fmt,
    colorRange: s.color_range,
    colorSpace: s.color_space,
    width: s.width,
    height: s.height,
    frames: Number(s.nb_read_frames),
    duration: Number(out.format.duration),
  };
}

/** Every frame of `input` (a file or an image sequence pattern) as packed RGB, frame after frame. */
export function decodeRgb(input: string, width: number, height: number): Uint8Array[] {
  const raw = execFileSync(
    tool('ffmpeg'),
    ['-v', 'error', '-i', input, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 1 << 29 },
  );
  const size = width * height * 3;
  if (raw.length % size) throw new Error(`${input}: ${raw.length} bytes is not a whole number of ${width}x${height} frames`);
  return Array.from({ length: raw.length / size }, (_, k) => new Uint8Array(raw.buffer, raw.byteOffset + k * size, size));
}

const psnrOf = (se: number, n: number) => (se === 0 ? 99 : 10 * Math.log10((255 * 255) / (se / n)));

/** PSNR over R, G and B. */
export function rgbPsnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return psnrOf(se, a.length);
}

/** PSNR of luma Y' = 0.299 R + 0.587 G + 0.114 B (BT.601 weights) computed from both RGB images. */
export function lumaPsnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = 0.299 * (a[i] - b[i]) + 0.587 * (a[i + 1] - b[i + 1]) + 0.114 * (a[i + 2] - b[i + 2]);
    se += d * d;
  }
  return psnrOf(se, a.length / 3);
}
