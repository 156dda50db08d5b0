/**
 * Reading a project document from untrusted JSON (a saved file, autosave, an import): every
 * field is checked and a clean Project is rebuilt from the checked values (unknown fields are
 * dropped). Failures are AppError('project-file') naming the field path, e.g.
 * "trajectories[2].points[0].x". Documents from a newer app are AppError('project-version');
 * older versions go through MIGRATIONS one version at a time.
 *
 * Two layers: `parseProject` checks the STRUCTURE (types, hard ranges) and refuses what cannot
 * be understood; `normalizeProject` then REPAIRS what can be repaired (timing frames in the
 * wrong order, a crop outside the real image, duplicate ids, paths over the point budgets) and
 * says what it changed. The project store runs `normalizeProject` on every edit, so memory never
 * holds a document that a later restore or open would refuse or change.
 */
import { AppError } from '../errors';
import {
  DEFAULT_SETTINGS,
  MOTION_MODES,
  type BrushStroke,
  type CanvasSize,
  type CropBox,
  type ImageRef,
  type MotionMode,
  type Point,
  type Project,
  type ProjectSettings,
  type TimingMode,
  type Trajectory,
  type VideoRef,
} from './types';

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
  motionStrideMax: 64,
  controlScaleMax: 4,
  promptMaxChars: 10000,
  /** Files with more than these are refused outright (they cannot be repaired sensibly). */
  maxTrajectories: 256,
  maxStrokes: 4096,
  maxPointsPerPath: 10000,
  /**
   * Budgets a document in memory keeps to, so the editor stays interactive (bench/editor):
   * longer paths are simplified (RDP) on input and on open; more strokes are refused at input.
   */
  trajectoryPointsMax: 500,
  trajectoryPointsTotalMax: 2048,
  strokePointsMax: 2000,
  strokesMax: 1000,
  brushPointsTotalMax: 40000,
  /** Points may lie outside the canvas (a drag past the border) but not absurdly far. */
  coordinateMax: 100000,
  brushRadiusMax: 2048,
  frameIndexMax: 1000,
  imageSideMax: 65536,
  /** Video-to-video: longest source (seconds), largest frame step. */
  videoDurationMax: 24 * 3600,
  videoStrideMax: 60,
  /** Largest guided-filter radius for the brush edge (settings.brushFeather), pixels. */
  brushFeatherMax: 32,
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

/**
 * A document the validator refused. `path` is the field as code names it (`trajectories[0].points[1].x`,
 * for tests and logs); the message names it in words (trajectory 1, point 2, x), since it reaches the page.
 */
export class ProjectFileError extends AppError {
  readonly path: string;
  readonly problem: string;
  constructor(path: string, problem: string) {
    super('project-file', `This project file is damaged or not a project: ${fieldInWords(path)} ${problem}.`);
    this.name = 'ProjectFileError';
    this.path = path;
    this.problem = problem;
  }
}

const SINGULAR: Readonly<Record<string, string>> = {
  trajectories: 'trajectory',
  points: 'point',
  brush: 'brush stroke',
  strokes: 'stroke',
};

/** `trajectories[0].timing.startFrame` -> `trajectory 1, timing start frame`; `settings.flowUnit` -> `the flow unit setting`. */
export function fieldInWords(path: string): string {
  const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  const segments = path.split('.');
  if (segments.length === 2 && segments[0] === 'settings') return `the ${words(segments[1])} setting`;
  const items: string[] = [];
  let tail: string[] = [];
  for (const segment of segments) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(segment);
    const name = m?.[1] ?? segment;
    const indices = m?.[2] ? [...m[2].matchAll(/\d+/g)].map((x) => Number(x[0]) + 1) : [];
    if (!indices.length) {
      tail.push(words(name));
      continue;
    }
    const label = SINGULAR[name] ?? words(name);
    items.push(...tail, ...indices.map((i) => `${label} ${i}`));
    tail = [];
  }
  if (tail.length) items.push(tail.join(' '));
  return items.join(', ');
}

function fail(path: string, problem: string): never {
  throw new ProjectFileError(path, problem);
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

function videoRef(v: unknown): VideoRef | null {
  if (v === null || v === undefined) return null;
  const o = obj(v, 'video');
  const L = PROJECT_LIMITS;
  return {
    id: str(o.id, 'video.id', 256, true),
    name: str(o.name, 'video.name', 1024),
    width: num(o.width, 'video.width', 1, L.imageSideMax, true),
    height: num(o.height, 'video.height', 1, L.imageSideMax, true),
    duration: num(o.duration, 'video.duration', 0, L.videoDurationMax),
    frameCount: num(o.frameCount, 'video.frameCount', 1, L.videoDurationMax * 1000, true),
    fps: num(o.fps, 'video.fps', 0, 1000),
    startTime: num(o.startTime, 'video.startTime', -L.videoDurationMax, L.videoDurationMax),
    stride: num(o.stride, 'video.stride', -1000, 1000),
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
    // Added after version 1 was first saved: a project without them gets the reference's values.
    motionStride:
      o.motionStride === undefined
        ? DEFAULT_SETTINGS.motionStride
        : num(o.motionStride, 'settings.motionStride', 1, L.motionStrideMax, true),
    controlScale:
      o.controlScale === undefined ? DEFAULT_SETTINGS.controlScale : num(o.controlScale, 'settings.controlScale', 0, L.controlScaleMax),
    loop: bool(o.loop, 'settings.loop'),
    // Absent in projects from before the brush edge existed: the mask as painted.
    brushFeather: o.brushFeather === undefined ? 0 : num(o.brushFeather, 'settings.brushFeather', 0, L.brushFeatherMax),
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
  const out: Trajectory = {
    id: str(o.id, `${path}.id`, 256, true),
    points: points(o.points, `${path}.points`),
    color: str(o.color, `${path}.color`, 64, true),
    timing: { mode: mode as TimingMode, startFrame, endFrame },
  };
  // Absent before per-trajectory modes (= as painted); kept absent so old documents read back unchanged.
  if (o.motion !== undefined) out.motion = motionMode(o.motion, `${path}.motion`);
  return out;
}

function motionMode(v: unknown, path: string): MotionMode {
  if (typeof v !== 'string' || !MOTION_MODES.includes(v as MotionMode)) {
    fail(path, `must be one of ${MOTION_MODES.join(', ')} (got ${describe(v)})`);
  }
  return v as MotionMode;
}

function brushStroke(v: unknown, path: string): BrushStroke {
  const o = obj(v, path);
  if (o.mode !== 'paint' && o.mode !== 'erase') fail(`${path}.mode`, `must be "paint" or "erase" (got ${describe(o.mode)})`);
  const radius = num(o.radius, `${path}.radius`, 0, PROJECT_LIMITS.brushRadiusMax);
  if (radius <= 0) fail(`${path}.radius`, `must be greater than 0 (got ${radius})`);
  const stroke: BrushStroke = { mode: o.mode, radius, points: points(o.points, `${path}.points`) };
  // Absent before motion modes existed (= fluid); kept absent so old documents read back unchanged.
  if (o.motion !== undefined) {
    stroke.motion = motionMode(o.motion, `${path}.motion`);
  }
  return stroke;
}

/**
 * Validate and normalise a project document: `readProject` with the repairs left unsaid.
 */
export function parseProject(json: unknown): Project {
  return readProject(json).project;
}

/**
 * Read a project document from untrusted JSON: structure first (throws AppError('project-file')
 * naming the first bad field, or AppError('project-version') for a newer version), then the
 * repairs of `normalizeProject`, listed in `repairs` for the user.
 * Timing frames beyond `settings.frames - 1` are kept (the sampler clamps them), so changing
 * the frame count never makes a saved project unreadable.
 */
export function readProject(json: unknown): Normalized {
  return normalizeProject(parseStructure(json));
}

function parseStructure(json: unknown): Project {
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
  const image = imageRef(doc.image);
  const crop = cropBox(doc.crop);
  const video = videoRef(doc.video);

  return {
    version: PROJECT_VERSION,
    image,
    // Image-to-video documents carry no `video` key at all (older files have none).
    ...(video ? { video } : {}),
    canvas: canvasSize(doc.canvas),
    crop,
    trajectories,
    brush: arr(doc.brush, 'brush', 0, PROJECT_LIMITS.maxStrokes).map((s, i) => brushStroke(s, `brush[${i}]`)),
    settings: settings(doc.settings),
  };
}

export interface Normalized {
  project: Project;
  /** What was changed, in words for the user; empty when the document was already valid. */
  repairs: string[];
}

/**
 * The crop box kept inside an image: moved inside when it overhangs, shrunk to the image when
 * it is larger (keeping its aspect ratio), so every crop the editor holds draws real pixels.
 */
export function fitCrop(crop: CropBox, image: { width: number; height: number }): CropBox {
  let { width, height } = crop;
  if (width > image.width || height > image.height) {
    const s = Math.min(image.width / width, image.height / height);
    width *= s;
    height *= s;
  }
  const x = Math.min(Math.max(crop.x, 0), image.width - width);
  const y = Math.min(Math.max(crop.y, 0), image.height - height);
  return { x, y, width, height };
}

/** Allowance (original pixels) for rounding in crop boxes before one counts as outside. */
const CROP_SLACK = 1;

function clampNumber(v: number, min: number, max: number, integer: boolean): number {
  const r = integer ? Math.round(v) : v;
  return Number.isFinite(r) ? Math.min(max, Math.max(min, r)) : min;
}

/** Squared distance from p to segment a-b (squared: no square root in the inner loop). */
function segmentDistance2(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = p.x - (a.x + t * dx);
  const ey = p.y - (a.y + t * dy);
  return ex * ex + ey * ey;
}

/**
 * Ramer-Douglas-Peucker with a point budget: splits the segment whose farthest point deviates
 * most, first, until every deviation is within `tolerance` or `maxPoints` are kept. One pass
 * (a max-heap of segments), so a 10,000-point path costs a few scans of it, not a bisection of
 * tolerances. The ends are always kept.
 */
export function simplifyToBudget(points: readonly Point[], maxPoints: number, tolerance = 0.5): Point[] {
  const n = points.length;
  if (n <= 2 || (n <= maxPoints && tolerance <= 0)) return points.slice();
  type Seg = { a: number; b: number; i: number; d: number };
  const heap: Seg[] = [];
  const push = (a: number, b: number) => {
    if (b - a < 2) return;
    let i = -1;
    let d = -1;
    for (let k = a + 1; k < b; k++) {
      const e = segmentDistance2(points[k], points[a], points[b]);
      if (e > d) {
        d = e;
        i = k;
      }
    }
    heap.push({ a, b, i, d });
    for (let c = heap.length - 1; c > 0; ) {
      const up = (c - 1) >> 1;
      if (heap[up].d >= heap[c].d) break;
      [heap[up], heap[c]] = [heap[c], heap[up]];
      c = up;
    }
  };
  const pop = (): Seg => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let c = 0; ; ) {
        const l = 2 * c + 1;
        const r = l + 1;
        let m = c;
        if (l < heap.length && heap[l].d > heap[m].d) m = l;
        if (r < heap.length && heap[r].d > heap[m].d) m = r;
        if (m === c) break;
        [heap[m], heap[c]] = [heap[c], heap[m]];
        c = m;
      }
    }
    return top;
  };
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  let count = 2;
  push(0, n - 1);
  while (heap.length && count < maxPoints) {
    const s = pop();
    if (s.d <= tolerance * tolerance) break;
    keep[s.i] = 1;
    count++;
    push(s.a, s.i);
    push(s.i, s.b);
  }
  const out: Point[] = [];
  for (let k = 0; k < n; k++) if (keep[k]) out.push({ x: points[k].x, y: points[k].y });
  return out;
}

/** Simplify paths (longest first) until the total number of points fits `totalMax`. */
function fitTotal<T extends { points: Point[] }>(items: T[], perMax: number, totalMax: number): { items: T[]; changed: number } {
  let budget = perMax;
  if (countPoints(items) > totalMax) {
    // The largest per-path budget whose total fits (paths under it keep every point).
    let lo = 2;
    let hi = perMax;
    const total = (b: number) => items.reduce((k, it) => k + Math.min(it.points.length, b), 0);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (total(mid) <= totalMax) lo = mid;
      else hi = mid - 1;
    }
    budget = lo;
  }
  let changed = 0;
  const out = items.map((it) => {
    if (it.points.length <= budget) return it;
    changed++;
    return { ...it, points: simplifyToBudget(it.points, budget) };
  });
  return { items: out, changed };
}

/**
 * The one validator every document passes on its way into memory (edit, open, paste, migrate,
 * restore). Returns the same object when nothing needs repair (the store relies on identity);
 * otherwise a repaired copy and what was repaired:
 * - settings clamped into their ranges; timing frames in the wrong order swapped;
 * - duplicate trajectory ids renamed; points pulled inside the coordinate range;
 * - the crop kept inside the image; a crop without an image dropped;
 * - paths over the point budgets simplified (Ramer-Douglas-Peucker), strokes over the count
 *   dropped from the end (the input refuses them first, so this only happens to foreign files).
 */
export function normalizeProject(p: Project): Normalized {
  const L = PROJECT_LIMITS;
  const repairs: string[] = [];
  let out = p;
  const patch = (next: Partial<Project>) => {
    out = { ...out, ...next };
  };

  // Settings.
  const s = p.settings;
  const ranges: [keyof ProjectSettings, number, number, boolean][] = [
    ['flowUnit', 1, L.flowUnitMax, true],
    ['frames', L.framesMin, L.framesMax, true],
    ['fps', L.fpsMin, L.fpsMax, false],
    ['seed', 0, 2 ** 32 - 1, true],
    ['steps', 1, L.stepsMax, true],
    ['guidance', 0, L.guidanceMax, false],
    ['motionStride', 1, L.motionStrideMax, true],
    ['controlScale', 0, L.controlScaleMax, false],
    ['brushFeather', 0, L.brushFeatherMax, false],
  ];
  let settings = s;
  for (const [k, min, max, integer] of ranges) {
    const v = s[k] as number;
    const c = clampNumber(v, min, max, integer);
    if (c !== v) {
      settings = { ...settings, [k]: c };
      repairs.push(`${k} ${v} was outside ${min}..${max}; set to ${c}`);
    }
  }
  if (settings.prompt.length > L.promptMaxChars) settings = { ...settings, prompt: settings.prompt.slice(0, L.promptMaxChars) };
  if (settings.negativePrompt.length > L.promptMaxChars)
    settings = { ...settings, negativePrompt: settings.negativePrompt.slice(0, L.promptMaxChars) };
  if (settings !== s) patch({ settings });

  // Trajectories: ids, timing order, coordinates, point budgets.
  const seen = new Set<string>();
  let trajectories = p.trajectories;
  let trajChanged = false;
  const c = L.coordinateMax;
  const fixed = p.trajectories.map((t, i) => {
    let u = t;
    if (seen.has(u.id)) {
      u = { ...u, id: newTrajectoryId() };
      repairs.push(`trajectory ${i + 1} repeated another one's id; it got a new one`);
    }
    seen.add(u.id);
    const { startFrame, endFrame } = u.timing;
    if (
      endFrame < startFrame ||
      !Number.isInteger(startFrame) ||
      !Number.isInteger(endFrame) ||
      startFrame < 0 ||
      endFrame > L.frameIndexMax
    ) {
      const a = clampNumber(Math.min(startFrame, endFrame), 0, L.frameIndexMax, true);
      const b = clampNumber(Math.max(startFrame, endFrame), 0, L.frameIndexMax, true);
      u = { ...u, timing: { ...u.timing, startFrame: a, endFrame: b } };
      repairs.push(`trajectory ${i + 1}'s frames ${startFrame}-${endFrame} were out of order; now ${a}-${b}`);
    }
    if (u.points.some((q) => !(Math.abs(q.x) <= c && Math.abs(q.y) <= c))) {
      u = { ...u, points: u.points.map((q) => ({ x: clampNumber(q.x, -c, c, false), y: clampNumber(q.y, -c, c, false) })) };
      repairs.push(`trajectory ${i + 1} had points far outside the canvas; they were pulled in`);
    }
    if (u !== t) trajChanged = true;
    return u;
  });
  if (trajChanged) trajectories = fixed;
  if (trajectories.length > L.maxTrajectories) {
    repairs.push(`only the first ${L.maxTrajectories} of ${trajectories.length} trajectories were kept`);
    trajectories = trajectories.slice(0, L.maxTrajectories);
  }
  const tpts = countPoints(trajectories);
  if (tpts > L.trajectoryPointsTotalMax || trajectories.some((t) => t.points.length > L.trajectoryPointsMax)) {
    const r = fitTotal(trajectories, L.trajectoryPointsMax, L.trajectoryPointsTotalMax);
    trajectories = r.items;
    repairs.push(
      `${r.changed} long trajectory path${r.changed === 1 ? ' was' : 's were'} simplified (${tpts} points in all, the limit is ${L.trajectoryPointsTotalMax})`,
    );
  }
  // A trajectory mode this app does not know (an edit from code) is dropped: the patch moves as painted.
  if (trajectories.some((t) => t.motion !== undefined && !MOTION_MODES.includes(t.motion))) {
    trajectories = trajectories.map((t) => {
      if (t.motion === undefined || MOTION_MODES.includes(t.motion)) return t;
      const { motion: _unknown, ...rest } = t;
      return rest;
    });
    repairs.push('trajectories with an unknown motion mode move their patch as painted');
  }
  if (trajectories !== p.trajectories) patch({ trajectories });

  // Brush: stroke count, point budgets.
  let brush = p.brush;
  if (brush.length > L.strokesMax) {
    repairs.push(`only the first ${L.strokesMax} of ${brush.length} brush strokes were kept`);
    brush = brush.slice(0, L.strokesMax);
  }
  const bpts = countPoints(brush);
  if (bpts > L.brushPointsTotalMax || brush.some((b) => b.points.length > L.strokePointsMax)) {
    const r = fitTotal(brush, L.strokePointsMax, L.brushPointsTotalMax);
    brush = r.items;
    repairs.push(
      `${r.changed} long brush stroke${r.changed === 1 ? ' was' : 's were'} simplified (${bpts} points in all, the limit is ${L.brushPointsTotalMax})`,
    );
  }
  // A motion mode this app does not know (an edit from code, not a file: files are checked above) is fluid.
  if (brush.some((b) => b.motion !== undefined && !MOTION_MODES.includes(b.motion))) {
    brush = brush.map((b) => (b.motion !== undefined && !MOTION_MODES.includes(b.motion) ? { ...b, motion: 'fluid' } : b));
    repairs.push('brush strokes with an unknown motion mode were set to fluid');
  }
  if (brush !== p.brush) patch({ brush });

  // Video: the start inside the video, a whole frame step in range.
  if (p.video) {
    const v = p.video;
    const startTime = clampNumber(v.startTime, 0, Math.max(0, v.duration), false);
    const stride = clampNumber(v.stride, 1, L.videoStrideMax, true);
    if (startTime !== v.startTime || stride !== v.stride) {
      patch({ video: { ...v, startTime, stride } });
      if (startTime !== v.startTime) repairs.push(`the video start ${v.startTime} s was outside 0..${v.duration} s; set to ${startTime} s`);
      if (stride !== v.stride) repairs.push(`the video frame step ${v.stride} was outside 1..${L.videoStrideMax}; set to ${stride}`);
    }
  } else if (p.video === null) {
    const { video: _none, ...rest } = out;
    out = rest;
  }

  // Crop: inside the image, or none without an image.
  if (p.crop && !p.image) {
    patch({ crop: null });
  } else if (p.crop && p.image) {
    const cr = p.crop;
    const im = p.image;
    if (cr.x < 0 || cr.y < 0 || cr.x + cr.width > im.width + CROP_SLACK || cr.y + cr.height > im.height + CROP_SLACK) {
      const f = fitCrop(cr, im);
      patch({ crop: f });
      repairs.push(`the crop (${fmt(cr)}) did not fit the ${im.width}x${im.height} image; it was moved inside (${fmt(f)})`);
    }
  }
  return { project: out, repairs };
}

function fmt(c: CropBox): string {
  const r = (v: number) => Math.round(v * 10) / 10;
  return `x ${r(c.x)}, y ${r(c.y)}, ${r(c.width)}x${r(c.height)}`;
}

export function countPoints(items: readonly { points: readonly Point[] }[]): number {
  let n = 0;
  for (const it of items) n += it.points.length;
  return n;
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
