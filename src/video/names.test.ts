import { describe, expect, it } from 'vitest';
import { codecLabel, imageStem, pngFrameName, videoBaseName } from './names';

describe('export file names', () => {
  it('say image, size, frame count, fps and codec', () => {
    const base = videoBaseName({ imageName: 'one.png', width: 512, height: 320, frames: 16, fps: 8 });
    expect(base).toBe('motion-i2v_one_512x320_16f_8fps');
    expect(`${base}_${codecLabel('avc')}.mp4`).toBe('motion-i2v_one_512x320_16f_8fps_h264.mp4');
    expect(codecLabel('vp9')).toBe('vp9');
  });

  it('make any image name safe and never empty', () => {
    expect(imageStem('C:\\photos\\Été à Paris (2).JPEG')).toBe('Ete-a-Paris-2');
    expect(imageStem('/tmp/a/b/../dog.webp')).toBe('dog');
    expect(imageStem('...png')).toBe('image');
    expect(imageStem(null)).toBe('image');
    expect(imageStem('x'.repeat(200) + '.png')).toHaveLength(60);
  });

  it('write fractional fps without a dot', () => {
    expect(videoBaseName({ imageName: 'a.png', width: 320, height: 320, frames: 16, fps: 12.5 })).toBe('motion-i2v_a_320x320_16f_12p5fps');
  });

  it('zero-pad PNG frame numbers so they sort', () => {
    expect(pngFrameName('b', 3, 16)).toBe('b_frame03.png');
    expect(pngFrameName('b', 7, 120)).toBe('b_frame007.png');
  });
});
