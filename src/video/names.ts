/**
 * File names that say what a file is: `motion-i2v_<image>_<W>x<H>_<N>f_<fps>fps_<codec>.<ext>`,
 * e.g. `motion-i2v_beach_512x320_16f_8fps_h264.mp4`. Pure functions (unit-tested in node).
 */

const CODEC_LABELS: Record<string, string> = { avc: 'h264', hevc: 'h265', vp9: 'vp9', av1: 'av1', vp8: 'vp8', png: 'png' };

/** The codec as people name it in file names and menus ('avc' -> 'h264'). */
export function codecLabel(codec: string): string {
  return CODEC_LABELS[codec] ?? codec;
}

/** The image's name without extension or path, reduced to characters safe in every file system; 'image' when nothing is left. */
export function imageStem(name: string | null | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.[A-Za-z0-9]{1,5}$/, '');
  const safe = stem
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  return safe || 'image';
}

export interface ClipDescription {
  imageName: string | null | undefined;
  width: number;
  height: number;
  frames: number;
  fps: number;
}

/** `motion-i2v_<image>_<W>x<H>_<N>f_<fps>fps`, to which exports append `_<codec>.<ext>` or a frame index. */
export function videoBaseName(c: ClipDescription): string {
  const fps = Number.isInteger(c.fps) ? String(c.fps) : c.fps.toFixed(2).replace(/0+$/, '').replace('.', 'p');
  return `motion-i2v_${imageStem(c.imageName)}_${c.width}x${c.height}_${c.frames}f_${fps}fps`;
}

/** Name of PNG frame `index` (0-based) of a clip of `count` frames: zero-padded so they sort. */
export function pngFrameName(baseName: string, index: number, count: number): string {
  const digits = Math.max(2, String(count - 1).length);
  return `${baseName}_frame${String(index).padStart(digits, '0')}.png`;
}
