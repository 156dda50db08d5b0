/** The video-to-video field of the project document through the one validator, and its errors' mapping. */
import { describe, expect, it } from 'vitest';
import { AppError, VideoCodecError, VideoEmptyError, VideoNoTrackError, VideoTooShortError, toUserError } from '../errors';
import { normalizeProject, parseProject, readProject } from './project';
import { emptyProject, type Project, type VideoRef } from './types';

const VIDEO: VideoRef = {
  id: 'sha256-ab',
  name: 'cat.mp4',
  width: 368,
  height: 480,
  duration: 4.35,
  frameCount: 87,
  fps: 20,
  startTime: 0.5,
  stride: 2,
};

function withVideo(video: unknown): Record<string, unknown> {
  return { ...JSON.parse(JSON.stringify(emptyProject())), video };
}

describe('project.video', () => {
  it('round-trips through JSON, and documents without it stay without it', () => {
    const p = parseProject(withVideo(VIDEO));
    expect(p.video).toEqual(VIDEO);
    expect(parseProject(JSON.parse(JSON.stringify(p)))).toEqual(p);
    const plain = parseProject(JSON.parse(JSON.stringify(emptyProject())));
    expect('video' in plain).toBe(false);
    expect('video' in parseProject(withVideo(null))).toBe(false);
  });

  it('refuses a structurally broken video naming the field', () => {
    expect(() => parseProject(withVideo({ ...VIDEO, id: '' }))).toThrow(/video id must not be empty/);
    expect(() => parseProject(withVideo({ ...VIDEO, width: 0 }))).toThrow(/video width must be between 1/);
    expect(() => parseProject(withVideo({ ...VIDEO, fps: 'fast' }))).toThrow(/video fps must be a finite number/);
    expect(() => parseProject(withVideo('cat.mp4'))).toThrow(AppError);
  });

  it('repairs a start outside the video and a frame step out of range, saying so', () => {
    const r = readProject(withVideo({ ...VIDEO, startTime: 9, stride: 0.4 }));
    expect(r.project.video).toMatchObject({ startTime: 4.35, stride: 1 });
    expect(r.repairs.join('; ')).toMatch(/video start 9 s was outside 0\.\.4\.35 s.*frame step 0\.4 was outside 1\.\.60/);
    const negative = readProject(withVideo({ ...VIDEO, startTime: -1, stride: 500 }));
    expect(negative.project.video).toMatchObject({ startTime: 0, stride: 60 });
  });

  it('keeps the same object when nothing needs repair, and drops an explicit null', () => {
    const p: Project = { ...emptyProject(), video: VIDEO };
    expect(normalizeProject(p).project).toBe(p);
    const cleared = normalizeProject({ ...emptyProject(), video: null }).project;
    expect('video' in cleared).toBe(false);
  });
});

describe('video errors', () => {
  it('reach the user as they are (own codes, no internals)', () => {
    for (const [e, code] of [
      [new VideoCodecError('hevc'), 'video-codec'],
      [new VideoCodecError(null), 'video-codec'],
      [new VideoNoTrackError('a.m4a'), 'video-no-track'],
      [new VideoEmptyError('e.mp4'), 'video-empty'],
      [new VideoTooShortError(3, 16), 'video-too-short'],
    ] as const) {
      const u = toUserError(e);
      expect(u).toBe(e);
      expect(u.code).toBe(code);
    }
    expect(new VideoTooShortError(1, 16).message).toMatch(/only 1 frame from the start time .* needs 16\. Start earlier/);
    expect(new VideoCodecError('hevc').message).toMatch(/cannot decode the video's hevc codec\. Convert it to H\.264 MP4/);
  });
});
