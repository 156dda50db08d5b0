/**
 * Job store lifecycle with a stand-in engine (the real one needs WebGPU; e2e/app/generate.spec.ts
 * runs it): progress, done, cancel, failure, and that none of them touches the project.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, AbortError } from '../errors';
import { emptyProject } from '../motion/types';

type GenerateFn = (p: unknown, img: unknown, o: { signal?: AbortSignal; onProgress?: (p: { stage: string; fraction: number }) => void }) => Promise<unknown>;
const engine = vi.hoisted(() => ({ generate: null as unknown as GenerateFn, created: 0 }));

vi.mock('../pipeline/client', () => ({
  EngineClient: class {
    constructor() {
      engine.created++;
    }
    generate(p: unknown, img: unknown, o: Parameters<GenerateFn>[2]) {
      return engine.generate(p, img, o);
    }
    dispose() {}
  },
}));
vi.mock('./image', () => ({ getCanvasImageData: async () => ({ width: 4, height: 2, data: new Uint8ClampedArray(32) }) }));

const { useJobStore } = await import('./job');
const { useProjectStore } = await import('./project');

function bitmap() {
  return { close: vi.fn(), width: 4, height: 2 } as unknown as ImageBitmap & { close: ReturnType<typeof vi.fn> };
}

function projectWithImage() {
  const p = emptyProject();
  p.image = { id: 'img', name: 'beach.png', width: 4, height: 2 };
  p.trajectories = [{ id: 't', points: [{ x: 1, y: 1 }, { x: 2, y: 1 }], color: 'red', timing: { mode: 'reference', startFrame: 0, endFrame: 15 } }];
  return p;
}

describe('job store', () => {
  beforeEach(() => {
    useJobStore.setState({ status: 'idle', stage: null, progress: 0, error: null, result: null, engine: 'classical' });
    useProjectStore.getState().resetProject(projectWithImage(), { hydrated: true });
  });

  it('runs: progress with stages, then done with the frames; the project is not edited', async () => {
    const before = structuredClone(useProjectStore.getState().project);
    const seen: string[] = [];
    const unsub = useJobStore.subscribe((s) => seen.push(`${s.status}:${s.stage}:${s.progress}`));
    const frames = [bitmap(), bitmap()];
    engine.generate = async (_p, _i, o) => {
      o.onProgress?.({ stage: 'motion', fraction: 0.3 });
      o.onProgress?.({ stage: 'render', fraction: 0.8 });
      return { engine: 'classical', width: 4, height: 2, fps: 8, frames };
    };
    await useJobStore.getState().generate();
    unsub();
    const s = useJobStore.getState();
    expect(s.status).toBe('done');
    expect(s.progress).toBe(1);
    expect(s.result?.frames).toBe(frames);
    expect(s.result?.imageName).toBe('beach.png');
    expect(seen).toContain('running:motion:0.3');
    expect(seen).toContain('running:render:0.8');
    expect(useProjectStore.getState().project).toEqual(before);
  });

  it('cancel ends in cancelled (not error), keeps the previous result and the project', async () => {
    const old = [bitmap()];
    engine.generate = async () => ({ engine: 'classical', width: 4, height: 2, fps: 8, frames: old });
    await useJobStore.getState().generate();
    const before = structuredClone(useProjectStore.getState().project);
    engine.generate = (_p, _i, o) =>
      new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(new AbortError())));
    const run = useJobStore.getState().generate();
    await Promise.resolve();
    expect(useJobStore.getState().status).toBe('running');
    useJobStore.getState().cancel();
    await run;
    const s = useJobStore.getState();
    expect(s.status).toBe('cancelled');
    expect(s.error).toBeNull();
    expect(s.result?.frames).toBe(old);
    expect(old[0].close).not.toHaveBeenCalled();
    expect(useProjectStore.getState().project).toEqual(before);
  });

  it('a failure shows its message; a new result closes the old frames', async () => {
    const first = [bitmap()];
    engine.generate = async () => ({ engine: 'classical', width: 4, height: 2, fps: 8, frames: first });
    await useJobStore.getState().generate();
    engine.generate = async () => {
      throw new AppError('gpu-device-lost', 'The GPU device was lost.');
    };
    await useJobStore.getState().generate();
    expect(useJobStore.getState()).toMatchObject({ status: 'error', error: 'The GPU device was lost.' });
    expect(first[0].close).not.toHaveBeenCalled();
    engine.generate = async () => ({ engine: 'classical', width: 4, height: 2, fps: 8, frames: [bitmap()] });
    await useJobStore.getState().generate();
    expect(useJobStore.getState().status).toBe('done');
    expect(first[0].close).toHaveBeenCalled();
  });

  it('refuses without an image, and the neural engine without a pack, in words', async () => {
    useProjectStore.getState().resetProject(emptyProject(), { hydrated: true });
    await useJobStore.getState().generate();
    expect(useJobStore.getState()).toMatchObject({ status: 'error', error: expect.stringMatching(/Load a picture first/) });
    useProjectStore.getState().resetProject(projectWithImage(), { hydrated: true });
    useJobStore.getState().setEngine('neural');
    await useJobStore.getState().generate();
    expect(useJobStore.getState()).toMatchObject({ status: 'error', error: expect.stringMatching(/model pack/) });
  });
});
