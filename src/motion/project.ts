/**
 * Reading a project document from untrusted JSON (a saved file, autosave, an import): every
 * field is checked and a clean Project is rebuilt from the checked values (unknown fields are
 * dropped). Failures are AppError('project-file') naming the field path, e.g.
 * "trajectories[2].points[0].x". Documents from a newer app are AppError('project-version');
 * older versions go through MIGRATIONS one version at a time.
 */
import { AppError } from '../errors';
import type { BrushStroke, CanvasSize, CropBox, ImageRef, Point, Project, ProjectSettings, TimingMode, Trajectory } from './types';

export const PROJECT_VERSION = 1;

/** Limits a document must respect; generous, but they keep a corrupt file from exhausting memory. */
export const PROJECT_LIMITS = {
  /** Canvas sides: multiples of 8 (the latents are 1/8) in this range. */
  canvasMin: 64,
  canvasMax: 2048,
  flowUnitMax: 320,
  framesMin: 2,
  framesMax: 64,
  fpsMin: 1,
  fpsMax: 120,
  stepsMax: 1000,
  guidanceMax: 100,
  promptMaxChars: 10000,
  maxTrajectories: 256,
  maxStrokes: 4096,
  maxPointsPerPath: 10000,
  /** Points may lie outside the canvas (a drag past the border) but not absurdly far. */
  coordinateMax: 100000,
  brushRadiusMax: 2048,
  frameIndexMax: 1000,
  imageSideMax: 65536,
} as const;

/**
 * Upgrades from version N (key) to N + 1. Empty while only version 1 exists; a future v2
 * adds `1: (doc) => ({ ...doc, version: 2, newField: default })`.
 */
export const MIGRATIONS: Readonly<Record<number, (doc: Record<string, unknown>) => Record<string, unknown>>> = {};

/**
 * Run the migrations from `from` up to `to`, one version at a time. Exported so the chain can
 * be tested with a table of its own before a real v2 exists.
 */
export function migrateDocument(
  doc: Record<string, unknown>,
  from: number,
  to: number,
  migrations: Readonly<Record<number, (doc: Record<string, unknown>) => Record<string, unknown>>> = MIGRATIONS,
): Record<string, unknown> {
  let out = doc;
  for (let v = from; v < to; v++) {
    const migrate = migrations[v];
    if (!migrate) fail('version', `${v} cannot be upgraded (no migration to ${v + 1})`);
    out = migrate(out);
  }
  return out;
}

const TIMING_MODES: readonly TimingMode[] = ['reference', 'constant-speed', 'ease-in-out'];

function fail(path: string, problem: string): never {
  throw new AppError('project-file', `This project file is damaged or not a project: ${path} ${problem}.`);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `must be an object (got ${describe(v)})`);
  return v as Record<string, unknown>;
}

function arr(v: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) fail(path, `must be a list (got ${describe(v)})`);
  if (v.length < min) fail(path, `must have at least ${min} item${min === 1 ? '' : 's'} (got ${v.length})`);
  if (v.length > max) fail(path, `must have at most ${max} items (got ${v.length})`);
  return v;
}

function num(v: unknown, path: string, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, `must be a finite number (got ${describe(v)})`);
  if (integer && !Number.isInteger(v)) fail(path, `must be a whole number (got ${v})`);
  if (v < min || v > max) fail(path, `must be between ${min} and ${max} (got ${v})`);
  return v;
}

function str(v: unknown, path: string, maxChars: number, nonEmpty = false): string {
  if (typeof v !== 'string') fail(path, `must be text (got ${describe(v)})`);
  if (nonEmpty && v.length === 0) fail(path, 'must not be empty');
  if (v.length > maxChars) fail(path, `must be at most ${maxChars} characters (got ${v.length})`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `must be true or false (got ${describe(v)})`);
  return v;
}

function point(v: unknown, path: string): Point {
  const o = obj(v, path);
  const c = PROJECT_LIMITS.coordinateMax;
  return { x: num(o.x, `${path}.x`, -c, c), y: num(o.y, `${path}.y`, -c, c) };
}

function points(v: unknown, path: string): Point[] {
  return arr(v, path, 1, PROJECT_LIMITS.maxPointsPerPath).map((p, i) => point(p, `${path}[${i}]`));
}

function canvasSize(v: unknown): CanvasSize {
  const o = obj(v, 'canvas');
  const L = PROJECT_LIMITS;
  const side = (x: unknown, name: string): number => {
    const n = num(x, `canvas.${name}`, L.canvasMin, L.canvasMax, true);
    if (n % 8 !== 0) fail(`canvas.${name}`, `must be a multiple of 8 (got ${n})`);
    return n;
  };
  return { width: side(o.width, 'width'), height: side(o.height, 'height') };
}

function imageRef(v: unknown): ImageRef | null {
  if (v === null) return null;
  const o = obj(v, 'image');
  const m = PROJECT_LIMITS.imageSideMax;
  return {
    id: str(o.id, 'image.id', 256, true),
    name: str(o.name, 'image.name', 1024),
    width: num(o.width, 'image.width', 1, m, true),
    height: num(o.height, 'image.height', 1, m, true),
  };
}

function cropBox(v: unknown): CropBox | null {
  if (v === null) return null;
  const o = obj(v, 'crop');
  const m = PROJECT_LIMITS.imageSideMax;
  const crop = {
    x: num(o.x, 'crop.x', 0, m),
    y: num(o.y, 'crop.y', 0, m),
    width: num(o.width, 'crop.width', 0, m),
    height: num(o.height, 'crop.height', 0, m),
  };
  if (crop.width <= 0) fail('crop.width', `must be greater than 0 (got ${crop.width})`);
  if (crop.height <= 0) fail('crop.height', `must be greater than 0 (got ${crop.height})`);
  return crop;
}

function settings(v: unknown): ProjectSettings {
  const o = obj(v, 'settings');
  const L = PROJECT_LIMITS;
  return {
    flowUnit: num(o.flowUnit, 'settings.flowUnit', 1, L.flowUnitMax, true),
    frames: num(o.frames, 'settings.frames', L.framesMin, L.framesMax, true),
    fps: num(o.fps, 'settings.fps', L.fpsMin, L.fpsMax),
    prompt: str(o.prompt, 'settings.prompt', L.promptMaxChars),
    negativePrompt: str(o.negativePrompt, 'settings.negativePrompt', L.promptMaxChars),
    seed: num(o.seed, 'settings.seed', 0, 2 ** 32 - 1, true),
    steps: num(o.steps, 'settings.steps', 1, L.stepsMax, true),
    guidance: num(o.guidance, 'settings.guidance', 0, L.guidanceMax),
    loop: bool(o.loop, 'settings.loop'),
  };
}

function trajectory(v: unknown, path: string): Trajectory {
  const o = obj(v, path);
  const t = obj(o.timing, `${path}.timing`);
  const mode = t.mode;
  if (typeof mode !== 'string' || !TIMING_MODES.includes(mode as TimingMode)) {
    fail(`${path}.timing.mode`, `must be one of ${TIMING_MODES.join(', ')} (got ${describe(mode)})`);
  }
  const fmax = PROJECT_LIMITS.frameIndexMax;
  const startFrame = num(t.startFrame, `${path}.timing.startFrame`, 0, fmax, true);
  const endFrame = num(t.endFrame, `${path}.timing.endFrame`, 0, fmax, true);
  if (endFrame < startFrame) fail(`${path}.timing.endFrame`, `must not be before startFrame ${startFrame} (got ${endFrame})`);
  return {
    id: str(o.id, `${path}.id`, 256, true),
    points: points(o.points, `${path}.points`),
    color: str(o.color, `${path}.color`, 64, true),
    timing: { mode: mode as TimingMode, startFrame, endFrame },
  };
}

function brushStroke(v: unknown, path: string): BrushStroke {
  const o = obj(v, path);
  if (o.mode !== 'paint' && o.mode !== 'erase') fail(`${path}.mode`, `must be "paint" or "erase" (got ${describe(o.mode)})`);
  const radius = num(o.radius, `${path}.radius`, 0, PROJECT_LIMITS.brushRadiusMax);
  if (radius <= 0) fail(`${path}.radius`, `must be greater than 0 (got ${radius})`);
  return { mode: o.mode, radius, points: points(o.points, `${path}.points`) };
}

/**
 * Validate and normalise a project document. Throws AppError('project-file') naming the
 * first bad field, or AppError('project-version') for a document from a newer version.
 * Timing frames beyond `settings.frames - 1` are kept (the sampler clamps them), so changing
 * the frame count never makes a saved project unreadable.
 */
export function parseProject(json: unknown): Project {
  let doc = obj(json, 'the document');
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail('version', `must be a whole number >= 1 (got ${describe(version)})`);
  }
  if (version > PROJECT_VERSION) {
    throw new AppError(
      'project-version',
      `This project was made by a newer version of the app (format ${version}; this app reads up to ${PROJECT_VERSION}). ` +
        'Update the app (reload the page) to open it.',
    );
  }
  doc = migrateDocument(doc, version, PROJECT_VERSION);

  const trajectories = arr(doc.trajectories, 'trajectories', 0, PROJECT_LIMITS.maxTrajectories).map((t, i) =>
    trajectory(t, `trajectories[${i}]`),
  );
  const seen = new Map<string, number>();
  trajectories.forEach((t, i) => {
    const prev = seen.get(t.id);
    if (prev !== undefined) fail(`trajectories[${i}].id`, `repeats the id of trajectories[${prev}] (${describe(t.id)})`);
    seen.set(t.id, i);
  });

  const image = imageRef(doc.image);
  const crop = cropBox(doc.crop);
  if (image && crop) {
    // The crop is a rectangle of the original image; allow 1 px for rounding in the editor.
    if (crop.x + crop.width > image.width + 1) fail('crop', `extends past the image's right edge (x ${crop.x} + width ${crop.width} > ${image.width})`);
    if (crop.y + crop.height > image.height + 1) fail('crop', `extends past the image's bottom edge (y ${crop.y} + height ${crop.height} > ${image.height})`);
  }

  return {
    version: PROJECT_VERSION,
    image,
    canvas: canvasSize(doc.canvas),
    crop,
    trajectories,
    brush: arr(doc.brush, 'brush', 0, PROJECT_LIMITS.maxStrokes).map((s, i) => brushStroke(s, `brush[${i}]`)),
    settings: settings(doc.settings),
  };
}

/** A fresh unique trajectory id. */
export function newTrajectoryId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return `traj-${c.randomUUID()}`;
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return `traj-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Distinct, saturated colours that read on photos; used in order for new trajectories. */
export const TRAJECTORY_COLORS: readonly string[] = [
  '#ff3b30', // red
  '#34c759', // green
  '#0a84ff', // blue
  '#ffcc00', // yellow
  '#af52de', // purple
  '#ff9500', // orange
  '#32ade6', // cyan
  '#ff2d55', // pink
  '#a2845e', // brown
  '#ffffff', // white
];

/**
 * The colour for a new trajectory: the first palette colour no existing trajectory uses; when
 * all are used, the least used one (earliest in the palette on ties).
 */
export function nextTrajectoryColor(existing: readonly (Pick<Trajectory, 'color'> | string)[]): string {
  const counts = new Map<string, number>();
  for (const e of existing) {
    const c = (typeof e === 'string' ? e : e.color).toLowerCase();
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = TRAJECTORY_COLORS[0];
  let bestCount = Infinity;
  for (const c of TRAJECTORY_COLORS) {
    const n = counts.get(c) ?? 0;
    if (n < bestCount) {
      best = c;
      bestCount = n;
    }
  }
  return best;
}
