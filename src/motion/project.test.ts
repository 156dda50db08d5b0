import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import {
  PROJECT_LIMITS,
  PROJECT_VERSION,
  TRAJECTORY_COLORS,
  ProjectFileError,
  countPoints,
  fieldInWords,
  migrateDocument,
  newTrajectoryId,
  nextTrajectoryColor,
  normalizeProject,
  parseProject,
  readProject,
} from './project';
import { emptyProject, type Project } from './types';

function fullProject(): Project {
  return {
    version: 1,
    image: { id: 'img-1', name: 'cat.jpg', width: 1920, height: 1080 },
    canvas: { width: 512, height: 320 },
    crop: { x: 96, y: 0, width: 1728, height: 1080 }, // cover crop of 1920 x 1080 for 512 x 320
    trajectories: [
      {
        id: 'a',
        points: [
          { x: 10, y: 20 },
          { x: 30.5, y: -4 },
        ],
        color: '#ff3b30',
        timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
      },
      { id: 'b', points: [{ x: 100, y: 100 }], color: '#34c759', timing: { mode: 'ease-in-out', startFrame: 2, endFrame: 9 } },
    ],
    brush: [
      { mode: 'paint', radius: 12, points: [{ x: 1, y: 2 }] },
      {
        mode: 'erase',
        radius: 3.5,
        points: [
          { x: 5, y: 5 },
          { x: 9, y: 9 },
        ],
      },
    ],
    settings: {
      flowUnit: 64,
      frames: 16,
      fps: 8,
      prompt: 'a cat',
      negativePrompt: '',
      seed: 7,
      steps: 25,
      guidance: 7,
      motionStride: 6,
      controlScale: 0.5,
      loop: false,
      brushFeather: 0,
    },
  };
}

/** A JSON copy of a full project with one change applied. */
function broken(change: (doc: any) => void): unknown {
  const doc = JSON.parse(JSON.stringify(fullProject()));
  change(doc);
  return doc;
}

function parseError(json: unknown): AppError {
  try {
    parseProject(json);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected parseProject to throw');
}

describe('parseProject', () => {
  it('accepts the empty project and a full one, returning equal documents', () => {
    expect(parseProject(JSON.parse(JSON.stringify(emptyProject())))).toEqual(emptyProject());
    expect(parseProject(JSON.parse(JSON.stringify(fullProject())))).toEqual(fullProject());
  });

  it('drops unknown fields', () => {
    const doc = broken((d) => {
      d.extra = 1;
      d.trajectories[0].selected = true;
      d.settings.theme = 'dark';
    });
    expect(parseProject(doc)).toEqual(fullProject());
  });

  const cases: [string, (d: any) => void, RegExp][] = [
    ['not an object', () => undefined, /the document must be an object/],
    ['canvas width not a multiple of 8', (d) => (d.canvas.width = 500), /canvas\.width must be a multiple of 8 \(got 500\)/],
    ['canvas too big', (d) => (d.canvas.height = 4096), /canvas\.height must be between 64 and 2048/],
    ['canvas missing', (d) => delete d.canvas, /canvas must be an object \(got nothing\)/],
    ['image without id', (d) => (d.image.id = ''), /image\.id must not be empty/],
    ['image width fractional', (d) => (d.image.width = 10.5), /image\.width must be a whole number/],
    ['crop zero width', (d) => (d.crop.width = 0), /crop\.width must be greater than 0/],
    ['trajectories not a list', (d) => (d.trajectories = {}), /trajectories must be a list/],
    ['trajectory without points', (d) => (d.trajectories[1].points = []), /trajectories\[1\]\.points must have at least 1 item/],
    [
      'point not finite',
      (d) => (d.trajectories[0].points[1].x = 'abc'),
      /trajectories\[0\]\.points\[1\]\.x must be a finite number \(got "abc"\)/,
    ],
    ['point null', (d) => (d.trajectories[0].points[0].y = null), /trajectories\[0\]\.points\[0\]\.y must be a finite number \(got null\)/],
    ['point absurdly far', (d) => (d.trajectories[0].points[0].y = 1e9), /trajectories\[0\]\.points\[0\]\.y must be between/],
    ['empty colour', (d) => (d.trajectories[0].color = ''), /trajectories\[0\]\.color must not be empty/],
    [
      'unknown timing mode',
      (d) => (d.trajectories[0].timing.mode = 'fast'),
      /trajectories\[0\]\.timing\.mode must be one of reference, constant-speed, ease-in-out \(got "fast"\)/,
    ],
    ['negative start frame', (d) => (d.trajectories[1].timing.startFrame = -1), /trajectories\[1\]\.timing\.startFrame must be between 0/],
    ['brush mode', (d) => (d.brush[0].mode = 'smudge'), /brush\[0\]\.mode must be "paint" or "erase"/],
    ['brush radius 0', (d) => (d.brush[1].radius = 0), /brush\[1\]\.radius must be greater than 0/],
    ['brush point', (d) => (d.brush[1].points[1] = [9, 9]), /brush\[1\]\.points\[1\] must be an object \(got a list\)/],
    ['flow unit too big', (d) => (d.settings.flowUnit = 321), /settings\.flowUnit must be between 1 and 320 \(got 321\)/],
    ['flow unit fractional', (d) => (d.settings.flowUnit = 6.5), /settings\.flowUnit must be a whole number/],
    ['frames 1', (d) => (d.settings.frames = 1), /settings\.frames must be between 2 and 64/],
    ['fps 0', (d) => (d.settings.fps = 0), /settings\.fps must be between 1 and 120/],
    ['prompt not text', (d) => (d.settings.prompt = 42), /settings\.prompt must be text \(got 42\)/],
    ['seed negative', (d) => (d.settings.seed = -1), /settings\.seed must be between 0/],
    ['steps 0', (d) => (d.settings.steps = 0), /settings\.steps must be between 1/],
    ['guidance NaN-ish', (d) => (d.settings.guidance = 'x'), /settings\.guidance must be a finite number/],
    ['loop not boolean', (d) => (d.settings.loop = 'yes'), /settings\.loop must be true or false/],
    ['version missing', (d) => delete d.version, /version must be a whole number >= 1 \(got nothing\)/],
    ['version as text', (d) => (d.version = '1'), /version must be a whole number >= 1 \(got "1"\)/],
    ['version 0', (d) => (d.version = 0), /version must be a whole number >= 1 \(got 0\)/],
  ];
  for (const [name, change, message] of cases) {
    it(`rejects: ${name}`, () => {
      const json = name === 'not an object' ? [1, 2] : broken(change);
      const e = parseError(json);
      expect(e.code).toBe('project-file');
      expect(e).toBeInstanceOf(ProjectFileError);
      const { path, problem } = e as ProjectFileError;
      expect(`${path} ${problem}`).toMatch(message);
      // The page gets the field in words, never the code's path.
      expect(e.message).not.toMatch(/\[\d+\]|[A-Za-z]\.[A-Za-z]/);
    });
  }

  it('names the refused field in words', () => {
    const cases: [string, string][] = [
      ['trajectories[0].points[1].x', 'trajectory 1, point 2, x'],
      ['trajectories[2].timing.startFrame', 'trajectory 3, timing start frame'],
      ['brush[1].points[1]', 'brush stroke 2, point 2'],
      ['settings.flowUnit', 'the flow unit setting'],
      ['canvas.width', 'canvas width'],
      ['video.width', 'video width'],
      ['the document', 'the document'],
    ];
    for (const [path, words] of cases) expect(fieldInWords(path)).toBe(words);
    const e = parseError(broken((d) => (d.trajectories[0].points[1].x = 'abc')));
    expect(e.message).toBe('This project file is damaged or not a project: trajectory 1, point 2, x must be a finite number (got "abc").');
  });

  it('rejects a document from a newer version with project-version', () => {
    const e = parseError(broken((d) => (d.version = PROJECT_VERSION + 1)));
    expect(e.code).toBe('project-version');
    expect(e.message).toMatch(/made by a newer version/);
  });

  it('gives a project saved before the neural settings the reference stride and ControlNet scale', () => {
    const p = parseProject(
      broken((d) => {
        delete d.settings.motionStride;
        delete d.settings.controlScale;
      }),
    );
    expect(p.settings.motionStride).toBe(8);
    expect(p.settings.controlScale).toBe(1);
  });

  it('rejects a motion strength or ControlNet scale out of range, naming the field', () => {
    expect(parseError(broken((d) => (d.settings.motionStride = 0))).message).toMatch(/the motion stride setting/);
    expect(parseError(broken((d) => (d.settings.controlScale = 'x'))).message).toMatch(/the control scale setting/);
  });

  it('accepts timing frames past the frame count (the sampler clamps them)', () => {
    const p = parseProject(broken((d) => (d.trajectories[0].timing.endFrame = 40)));
    expect(p.trajectories[0].timing.endFrame).toBe(40);
  });
});

describe('readProject repairs what can be repaired and says so', () => {
  it('frames in the wrong order are swapped', () => {
    const { project, repairs } = readProject(broken((d) => (d.trajectories[1].timing.endFrame = 1)));
    expect(project.trajectories[1].timing).toEqual({ mode: 'ease-in-out', startFrame: 1, endFrame: 2 });
    expect(repairs.join('\n')).toMatch(/trajectory 2's frames 2-1 were out of order; now 1-2/);
  });
  it('a crop past the image is moved inside it (same size)', () => {
    const { project, repairs } = readProject(broken((d) => (d.crop.x = 200)));
    // 1920 - 1728 = 192: the furthest right a 1728-wide crop can sit.
    expect(project.crop).toEqual({ x: 192, y: 0, width: 1728, height: 1080 });
    expect(repairs.join('\n')).toMatch(/did not fit the 1920x1080 image/);
  });
  it('a crop larger than the image shrinks to it, keeping its shape', () => {
    const { project } = readProject(broken((d) => (d.image.width = 864) && (d.image.height = 540)));
    // 1728x1080 scaled by 0.5 fits 864x540 exactly.
    expect(project.crop).toEqual({ x: 0, y: 0, width: 864, height: 540 });
  });
  it('a repeated id gets a new one', () => {
    const { project, repairs } = readProject(broken((d) => (d.trajectories[1].id = 'a')));
    expect(project.trajectories[0].id).toBe('a');
    expect(project.trajectories[1].id).not.toBe('a');
    expect(repairs).toHaveLength(1);
  });
  it('a valid document comes back unchanged with no repairs', () => {
    const { project, repairs } = readProject(JSON.parse(JSON.stringify(fullProject())));
    expect(project).toEqual(fullProject());
    expect(repairs).toEqual([]);
  });
  it('normalizeProject returns the same object when nothing needs repair', () => {
    const p = fullProject();
    expect(normalizeProject(p).project).toBe(p);
  });
  it('the limits of the issue (256 paths x 10,000 points; 4,096 strokes x 1,000 points) are simplified to the budgets, keeping every path and its ends', () => {
    const L = PROJECT_LIMITS;
    const wave = (n: number, k: number) => Array.from({ length: n }, (_, i) => ({ x: (i / n) * 500, y: 160 + 100 * Math.sin(i / 50 + k) }));
    const doc = broken((d) => {
      d.trajectories = Array.from({ length: 256 }, (_, k) => ({
        id: `t${k}`,
        points: wave(10000, k),
        color: '#ff0000',
        timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
      }));
      d.brush = Array.from({ length: 4096 }, (_, k) => ({ mode: 'paint', radius: 8, points: wave(1000, k) }));
    });
    const t0 = performance.now();
    const { project, repairs } = readProject(doc);
    const ms = performance.now() - t0;
    expect(project.trajectories).toHaveLength(256);
    expect(countPoints(project.trajectories)).toBeLessThanOrEqual(L.trajectoryPointsTotalMax);
    for (const t of project.trajectories) {
      expect(t.points.length).toBeGreaterThanOrEqual(2);
      expect(t.points[0]).toEqual({ x: 0, y: 160 + 100 * Math.sin(Number(t.id.slice(1))) });
    }
    expect(project.brush).toHaveLength(L.strokesMax);
    expect(countPoints(project.brush)).toBeLessThanOrEqual(L.brushPointsTotalMax);
    expect(repairs.join('\n')).toMatch(/256 long trajectory paths were simplified \(2560000 points in all/);
    expect(repairs.join('\n')).toMatch(/only the first 1000 of 4096 brush strokes were kept/);
    // A normalized document is a fixed point: reading it again repairs nothing.
    expect(readProject(JSON.parse(JSON.stringify(project))).repairs).toEqual([]);
    console.log(`readProject of the issue's limits: ${ms.toFixed(0)} ms`);
  }, 120_000);
});

describe('migrateDocument', () => {
  it('applies migrations one version at a time, in order', () => {
    const table = {
      1: (d: Record<string, unknown>) => ({ ...d, version: 2, log: [...(d.log as string[]), '1->2'] }),
      2: (d: Record<string, unknown>) => ({ ...d, version: 3, log: [...(d.log as string[]), '2->3'] }),
    };
    expect(migrateDocument({ version: 1, log: [] }, 1, 3, table)).toEqual({ version: 3, log: ['1->2', '2->3'] });
    expect(migrateDocument({ version: 3, log: [] }, 3, 3, table)).toEqual({ version: 3, log: [] });
  });
  it('a missing step is a project-file error', () => {
    expect(() => migrateDocument({}, 1, 3, { 1: (d) => d })).toThrow(/2 cannot be upgraded \(no migration to 3\)/);
  });
});

describe('new trajectory ids and colours', () => {
  it('ids are unique strings', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newTrajectoryId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^traj-[0-9a-f-]+$/);
  });

  it('colours go through the palette, then reuse the least used one', () => {
    expect(nextTrajectoryColor([])).toBe(TRAJECTORY_COLORS[0]);
    expect(nextTrajectoryColor([{ color: TRAJECTORY_COLORS[0] }])).toBe(TRAJECTORY_COLORS[1]);
    // Case-insensitive, and a user colour outside the palette does not count.
    expect(nextTrajectoryColor([TRAJECTORY_COLORS[0].toUpperCase(), '#123456'])).toBe(TRAJECTORY_COLORS[1]);
    // Gaps are filled first.
    expect(nextTrajectoryColor([TRAJECTORY_COLORS[0], TRAJECTORY_COLORS[2]])).toBe(TRAJECTORY_COLORS[1]);
    // All used once, the first twice: the second is the least used, earliest.
    const all = [...TRAJECTORY_COLORS, TRAJECTORY_COLORS[0]];
    expect(nextTrajectoryColor(all)).toBe(TRAJECTORY_COLORS[1]);
    expect(new Set(TRAJECTORY_COLORS).size).toBe(TRAJECTORY_COLORS.length);
  });
});

describe('motion modes and the brush edge', () => {
  it('reads documents from before them unchanged: no motion field (fluid), brushFeather 0', () => {
    const doc = broken((d) => delete d.settings.brushFeather);
    const p = parseProject(doc);
    expect(p.settings.brushFeather).toBe(0);
    expect(p.brush.every((b) => !('motion' in b))).toBe(true);
  });

  it('keeps a known motion mode and a feather in range, refuses others naming the field', () => {
    const p = parseProject(
      broken((d) => {
        d.brush[0].motion = 'rigid';
        d.settings.brushFeather = 6.5;
      }),
    );
    expect(p.brush[0].motion).toBe('rigid');
    expect(p.settings.brushFeather).toBe(6.5);
    expect(parseError(broken((d) => (d.brush[0].motion = 'wobbly'))).message).toMatch(
      /brush stroke 1, motion must be one of fluid, rigid, shape/,
    );
    expect(parseError(broken((d) => (d.settings.brushFeather = 40))).message).toMatch(/the brush feather setting must be between 0 and 32/);
  });

  it('a trajectory mode: absent in older documents (kept absent), known ones kept, others refused naming the field', () => {
    const old = parseProject(broken(() => {}));
    expect(old.trajectories.every((t) => !('motion' in t))).toBe(true);
    const p = parseProject(broken((d) => (d.trajectories[0].motion = 'shape')));
    expect(p.trajectories[0].motion).toBe('shape');
    expect(parseError(broken((d) => (d.trajectories[0].motion = 'arap'))).message).toMatch(
      /trajectory 1, motion must be one of fluid, rigid, shape/,
    );
    const q = fullProject();
    (q.trajectories[0] as { motion?: string }).motion = 'wobbly';
    const n = normalizeProject(q);
    expect('motion' in n.project.trajectories[0]).toBe(false);
    expect(n.repairs).toHaveLength(1);
  });

  it('normalizeProject repairs an in-memory feather out of range and an unknown mode', () => {
    const p = fullProject();
    p.settings.brushFeather = 99;
    (p.brush[0] as { motion?: string }).motion = 'wobbly';
    const n = normalizeProject(p);
    expect(n.project.settings.brushFeather).toBe(PROJECT_LIMITS.brushFeatherMax);
    expect(n.project.brush[0].motion).toBe('fluid');
    expect(n.repairs.length).toBe(2);
  });
});
