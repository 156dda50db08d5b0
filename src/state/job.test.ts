/**
 * The job model with a stand-in engine (the real one needs WebGPU; e2e/app/generate.spec.ts
 * runs it): progress, done, cancel, failure, superseding, ETA, internal errors kept off the
 * page, and that none of them touches the project.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, AbortError, KernelInputError, OutOfMemoryError } from '../errors';

const CLASSICAL_PAIR = { motion: 'classical', render: 'classical' } as const;
import { emptyProject } from '../motion/types';

type GenerateFn = (
  p: unknown,
  img: unknown,
  o: { signal?: AbortSignal; onProgress?: (p: { stage: string; fraction: number }) => void },
) => Promise<unknown>;
const engine = vi.hoisted(() => ({
  generate: null as unknown as GenerateFn,
  predictMotion: null as unknown as GenerateFn,
  renderMotion: null as unknown as (
    p: unknown,
    img: unknown,
    motionId: number,
    blend: number,
    o: { engines?: unknown },
  ) => Promise<unknown>,
  created: 0,
}));

vi.mock('../pipeline/client', () => ({
  EngineClient: class {
    constructor() {
      engine.created++;
    }
    generate(p: unknown, img: unknown, o: Parameters<GenerateFn>[2]) {
      return engine.generate(p, img, o);
    }
    predictMotion(p: unknown, img: unknown, o: Parameters<GenerateFn>[2]) {
      return engine.predictMotion(p, img, o);
    }
    renderMotion(p: unknown, img: unknown, motionId: number, blend: number, o: { engines?: unknown }) {
      return engine.renderMotion(p, img, motionId, blend, o);
    }
    dispose() {}
  },
}));
vi.mock('./image', () => ({ getCanvasImageData: async () => ({ width: 4, height: 2, data: new Uint8ClampedArray(32) }) }));

const { useJobStore, runJob, cancelJob, jobProject, IDLE } = await import('./job');
const gen = () => useJobStore.getState().jobs.generate;
const { useProjectStore } = await import('./project');

function bitmap() {
  return { close: vi.fn(), width: 4, height: 2 } as unknown as ImageBitmap & { close: ReturnType<typeof vi.fn> };
}

function projectWithImage() {
  const p = emptyProject();
  p.image = { id: 'img', name: 'beach.png', width: 4, height: 2 };
  p.trajectories = [
    {
      id: 't',
      points: [
        { x: 1, y: 1 },
        { x: 2, y: 1 },
      ],
      color: 'red',
      timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
    },
  ];
  return p;
}

describe('job store', () => {
  beforeEach(() => {
    useJobStore.setState({
      jobs: { generate: IDLE, preview: IDLE, 'preview-strip': IDLE, export: IDLE },
      result: null,
      motion: null,
      inspectMotion: true,
      engines: { motion: 'classical', render: 'classical' },
    });
    useProjectStore.getState().resetProject(projectWithImage(), { hydrated: true });
  });

  it('runs: progress with stages, then done with the frames; the project is not edited', async () => {
    const before = structuredClone(useProjectStore.getState().project);
    const seen: string[] = [];
    const unsub = useJobStore.subscribe((s) => seen.push(`${s.jobs.generate.status}:${s.jobs.generate.stage}:${s.jobs.generate.progress}`));
    const frames = [bitmap(), bitmap()];
    engine.generate = async (_p, _i, o) => {
      o.onProgress?.({ stage: 'motion', fraction: 0.3 });
      o.onProgress?.({ stage: 'render', fraction: 0.8 });
      return { engine: 'classical', width: 4, height: 2, fps: 8, frames };
    };
    await useJobStore.getState().generate();
    unsub();
    const s = useJobStore.getState();
    expect(gen().status).toBe('done');
    expect(gen().progress).toBe(1);
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
    engine.generate = (_p, _i, o) => new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(new AbortError())));
    const run = useJobStore.getState().generate();
    await Promise.resolve();
    expect(gen().status).toBe('running');
    useJobStore.getState().cancel();
    await run;
    const s = useJobStore.getState();
    expect(gen().status).toBe('cancelled');
    expect(gen().error).toBeNull();
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
    expect(gen()).toMatchObject({ status: 'error', error: 'The GPU device was lost.' });
    expect(first[0].close).not.toHaveBeenCalled();
    engine.generate = async () => ({ engine: 'classical', width: 4, height: 2, fps: 8, frames: [bitmap()] });
    await useJobStore.getState().generate();
    expect(gen().status).toBe('done');
    expect(first[0].close).toHaveBeenCalled();
  });

  it('GPU memory exhausted in the middle of a neural job: a message that suggests a smaller precision, the project untouched, the next Generate works', async () => {
    useJobStore
      .getState()
      .setEngines({ motion: 'neural', render: 'neural', motionConfig: { pack: 'p', frames: 8 }, renderConfig: { pack: 'p', frames: 8 } });
    useJobStore.getState().setInspectMotion(false);
    const before = structuredClone(useProjectStore.getState().project);
    const old = [bitmap()];
    useJobStore.setState({
      result: { engines: CLASSICAL_PAIR, width: 4, height: 2, fps: 8, frames: old, imageName: 'a', ms: 1, serial: 1, loop: false },
    });
    // What reaches the store: the worker's OutOfMemoryError rebuilt by the client, or an allocation
    // failure as ORT words it, wrapped by a session loader's own error.
    const failures = [
      new OutOfMemoryError(),
      new AppError('model-pack', 'The model file of "stage1_unet" (fp32) could not be loaded: x. Re-download the pack.', {
        cause: new Error('Failed to allocate a buffer of 1073741824 bytes'),
      }),
      new Error('WebGPU: out of memory'),
    ];
    for (const failure of failures) {
      engine.generate = async (_p, _i, o) => {
        o.onProgress?.({ stage: 'motion', fraction: 0.2 });
        throw failure;
      };
      await useJobStore.getState().generate();
      expect(gen()).toMatchObject({ status: 'error', code: 'gpu-out-of-memory' });
      expect(gen().error).toMatch(/^The GPU ran out of memory during the job\. Your image, trajectories and brush are kept\./);
      expect(gen().error).toMatch(
        /Choose a smaller precision for the model pack in Model packs \(q8 or q4c8 instead of fp32, q4f16 or q4c8f16 instead of fp16\)/,
      );
      expect(gen().error).not.toMatch(/stage1_unet|1073741824|Failed to allocate/);
      expect(useProjectStore.getState().project).toEqual(before);
      expect(useJobStore.getState().result?.frames).toBe(old);
      expect(old[0].close).not.toHaveBeenCalled();
    }
    engine.generate = async () => ({ engine: 'neural', width: 4, height: 2, fps: 8, frames: [bitmap()] });
    await useJobStore.getState().generate();
    expect(gen()).toMatchObject({ status: 'done', error: null, code: null });
    expect(useProjectStore.getState().project).toEqual(before);
  });

  it('a motion repaired before rendering: the video is kept and a notice says so in words; the next clean job clears it', async () => {
    const frames = [bitmap(), bitmap()];
    engine.generate = async () => ({
      engine: 'classical',
      width: 4,
      height: 2,
      fps: 8,
      frames,
      repair: { nonFinite: 3, clamped: 1, pixels: 8, limit: 16 },
    });
    await useJobStore.getState().generate();
    expect(gen()).toMatchObject({ status: 'done', error: null });
    expect(gen().notice).toMatch(/^The motion was partly broken and was repaired before rendering: 38% of its points had no valid value/);
    expect(useJobStore.getState().result?.frames).toBe(frames);
    engine.generate = async () => ({ engine: 'classical', width: 4, height: 2, fps: 8, frames: [bitmap()] });
    await useJobStore.getState().generate();
    expect(gen()).toMatchObject({ status: 'done', notice: null });
  });

  it('refuses without an image in words; asks the worker for the chosen engines by name', async () => {
    useProjectStore.getState().resetProject(emptyProject(), { hydrated: true });
    await useJobStore.getState().generate();
    expect(gen()).toMatchObject({ status: 'error', error: expect.stringMatching(/Load a picture first/) });
    useProjectStore.getState().resetProject(projectWithImage(), { hydrated: true });
    let asked: unknown = null;
    engine.generate = async (_p, _i, o) => {
      asked = (o as { engines?: unknown }).engines;
      throw new AppError('engine-unavailable', 'Install a model pack to use the neural engine, or choose the Classical engine.');
    };
    useJobStore.getState().setEngine('neural');
    useJobStore.getState().setInspectMotion(false);
    await useJobStore.getState().generate();
    expect(asked).toEqual({ motion: 'neural', render: 'classical' });
    expect(gen()).toMatchObject({ status: 'error', code: 'engine-unavailable', error: expect.stringMatching(/model pack/) });
  });

  it('with the motion check, neural Generate predicts only; Render renders the held motion with the blend; a whole job clears the check', async () => {
    const colours = [bitmap(), bitmap()];
    let predicted: unknown = null;
    engine.predictMotion = async (p, _i, o) => {
      predicted = { project: p, engines: (o as { engines?: unknown }).engines };
      return {
        motionId: 7,
        engines: { motion: 'neural', render: 'classical' },
        width: 4,
        height: 2,
        count: 2,
        colours,
        arrows: new Float32Array(8),
        gridWidth: 1,
        gridHeight: 1,
      };
    };
    engine.generate = async () => {
      throw new Error('a whole job must not run while the motion is checked');
    };
    useJobStore.setState({ engines: { motion: 'neural', render: 'classical', motionConfig: { pack: 'p', frames: 8 } } });
    const before = structuredClone(useProjectStore.getState().project);
    await useJobStore.getState().generate();
    expect(gen().status).toBe('done');
    expect(useJobStore.getState().result).toBeNull();
    expect(useJobStore.getState().motion).toMatchObject({ motionId: 7, count: 2 });
    // the prediction ran at the pack's frame count, the project itself unchanged
    expect((predicted as { project: { settings: { frames: number } } }).project.settings.frames).toBe(8);
    expect(useProjectStore.getState().project).toEqual(before);

    let rendered: unknown = null;
    const frames = [bitmap(), bitmap(), bitmap()];
    engine.renderMotion = async (_p, _i, motionId, blend, o) => {
      rendered = { motionId, blend, engines: o.engines };
      return { engines: o.engines, width: 4, height: 2, fps: 8, frames };
    };
    await useJobStore.getState().renderMotion(0.25);
    expect(rendered).toEqual({
      motionId: 7,
      blend: 0.25,
      engines: { motion: 'neural', render: 'classical', motionConfig: { pack: 'p', frames: 8 } },
    });
    expect(useJobStore.getState().result?.frames).toBe(frames);
    expect(useJobStore.getState().motion).not.toBeNull();

    useJobStore.getState().setInspectMotion(false);
    engine.generate = async () => ({ engine: 'neural', width: 4, height: 2, fps: 8, frames: [bitmap()] });
    await useJobStore.getState().generate();
    expect(useJobStore.getState().motion).toBeNull();
    for (const c of colours) expect(c.close).toHaveBeenCalled();
  });

  it('never shows an internal message: a kernel error or a bug becomes a generic one', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    engine.generate = async () => {
      throw new KernelInputError('densify', 'table', 'has invalid shape [15,0,2]');
    };
    await useJobStore.getState().generate();
    expect(gen().status).toBe('error');
    expect(gen().error).not.toMatch(/densify|table|shape|\[/);
    expect(gen().error).toMatch(/try again/);
    engine.generate = async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'buffer')");
    };
    await useJobStore.getState().generate();
    expect(gen().error).not.toMatch(/undefined|buffer/);
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
  });
});

describe('jobProject', () => {
  it("runs a neural job at its pack's frame count, leaving the project as it is", () => {
    const p = emptyProject();
    const neural = { motion: 'neural', render: 'classical', motionConfig: { pack: 'id', frames: 8 } } as const;
    expect(jobProject(p, neural).settings.frames).toBe(8);
    expect(p.settings.frames).toBe(16);
    expect(jobProject(p, { motion: 'classical', render: 'classical', motionConfig: { frames: 8 } })).toBe(p);
  });
});

describe('job model', () => {
  it("'abort' supersedes: a new job cancels the running one, whose late value is disposed", async () => {
    const disposed: string[] = [];
    let finishFirst: (v: string) => void = () => undefined;
    const first = runJob('export', () => new Promise<string>((r) => (finishFirst = r)), { dispose: (v) => disposed.push(v) });
    const second = runJob('export', async () => 'second');
    expect(await second).toBe('second');
    finishFirst('first');
    expect(await first).toBeUndefined();
    expect(disposed).toEqual(['first']);
    expect(useJobStore.getState().jobs.export.status).toBe('done');
  });

  it("'latest' supersedes: the newest job waits for the running one, older waiting ones are dropped", async () => {
    const started: number[] = [];
    let release: () => void = () => undefined;
    const a = runJob(
      'preview',
      async () => {
        started.push(1);
        await new Promise<void>((r) => (release = r));
        return 1;
      },
      { supersede: 'latest' },
    );
    const b = runJob(
      'preview',
      async () => {
        started.push(2);
        return 2;
      },
      { supersede: 'latest' },
    );
    const c = runJob(
      'preview',
      async () => {
        started.push(3);
        return 3;
      },
      { supersede: 'latest' },
    );
    expect(await b).toBeUndefined();
    expect(started).toEqual([1]);
    release();
    expect(await a).toBe(1);
    expect(await c).toBe(3);
    expect(started).toEqual([1, 3]);
  });

  it('reports stage, progress and an ETA from the rate so far; cancel is not an error', async () => {
    vi.useFakeTimers();
    const t0 = performance.now();
    const now = vi.spyOn(performance, 'now');
    let report: (stage: string, f: number) => void = () => undefined;
    now.mockReturnValue(t0);
    const run = runJob(
      'export',
      ({ progress, signal }) =>
        new Promise((_, reject) => {
          report = progress;
          signal.addEventListener('abort', () => reject(new AbortError()));
        }),
    );
    now.mockReturnValue(t0 + 1000);
    report('encode', 0.25);
    const info = useJobStore.getState().jobs.export;
    expect(info).toMatchObject({ status: 'running', stage: 'encode', progress: 0.25 });
    expect(info.etaMs).toBeCloseTo(3000, 5);
    cancelJob('export');
    await run;
    expect(useJobStore.getState().jobs.export).toMatchObject({ status: 'cancelled', error: null });
    now.mockRestore();
    vi.useRealTimers();
  });
});
