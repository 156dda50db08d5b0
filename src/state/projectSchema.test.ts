/**
 * docs/project.schema.json cannot drift from the code: its keys are the TypeScript types' keys
 * (read from typed objects, so a new field in Project fails here until the schema has it), its
 * constants are the code's, and for every field the schema names, values at and past each limit
 * are accepted or refused by the schema exactly as the one validator (readProject) decides.
 * The schema is checked with the small draft 2020-12 subset validator below (what the file uses).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { PROJECT_LIMITS, PROJECT_VERSION, readProject } from '../motion/project';
import {
  DEFAULT_SETTINGS,
  emptyProject,
  type BrushStroke,
  type CropBox,
  type ImageRef,
  type Project,
  type Trajectory,
  type VideoRef,
} from '../motion/types';
import { PROJECT_FILE_FORMAT, PROJECT_FILE_VERSION } from './projectFile';

type Schema = Record<string, any>;
const root: Schema = JSON.parse(readFileSync(new URL('../../docs/project.schema.json', import.meta.url), 'utf8'));
const defs: Record<string, Schema> = root.$defs;

function resolve(s: Schema): Schema {
  return s.$ref ? resolve(defs[s.$ref.replace('#/$defs/', '')]) : s;
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'null':
      return v === null;
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    default:
      throw new Error(`schema type ${type} is not supported by this test`);
  }
}

/** True when `v` satisfies `schema` (the keywords docs/project.schema.json uses). */
function valid(schema: Schema, v: unknown): boolean {
  const s = resolve(schema);
  if (s.anyOf) return s.anyOf.some((x: Schema) => valid(x, v));
  if ('const' in s && v !== s.const) return false;
  if (s.enum && !s.enum.includes(v)) return false;
  if (s.type && !(Array.isArray(s.type) ? s.type : [s.type]).some((t: string) => typeOk(t, v))) return false;
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return false;
    if (s.multipleOf !== undefined && v % s.multipleOf !== 0) return false;
  }
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength) return false;
    if (s.maxLength !== undefined && v.length > s.maxLength) return false;
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) return false;
    if (s.maxItems !== undefined && v.length > s.maxItems) return false;
    if (s.items && !v.every((x) => valid(s.items, x))) return false;
  }
  if (typeOk('object', v)) {
    const o = v as Record<string, unknown>;
    if (s.required && !s.required.every((k: string) => k in o)) return false;
    for (const [k, p] of Object.entries<Schema>(s.properties ?? {})) if (k in o && !valid(p, o[k])) return false;
  }
  return true;
}

function accepted(doc: unknown): boolean {
  try {
    readProject(doc);
    return true;
  } catch {
    return false;
  }
}

/** A document using every field: image, crop, an anchor and a path, paint and erase. */
function fullProject(): Project {
  const image: ImageRef = { id: 'sha256-00', name: 'photo.png', width: 800, height: 600 };
  const crop: CropBox = { x: 10, y: 20, width: 640, height: 400 };
  const trajectories: Trajectory[] = [
    {
      id: 'a',
      points: [
        { x: 10, y: 10 },
        { x: 60, y: 30 },
      ],
      color: '#e6194b',
      timing: { mode: 'constant-speed', startFrame: 0, endFrame: 15 },
      motion: 'shape',
    },
    { id: 'b', points: [{ x: 200, y: 100 }], color: '#3cb44b', timing: { mode: 'reference', startFrame: 0, endFrame: 15 } },
  ];
  const brush: BrushStroke[] = [
    {
      mode: 'paint',
      motion: 'rigid',
      radius: 12,
      points: [
        { x: 5, y: 5 },
        { x: 40, y: 40 },
      ],
    },
    { mode: 'erase', radius: 4, points: [{ x: 20, y: 20 }] },
  ];
  const video: VideoRef = {
    id: 'sha256-01',
    name: 'source.mp4',
    width: 640,
    height: 360,
    duration: 4,
    frameCount: 96,
    fps: 24,
    startTime: 0.5,
    stride: 2,
  };
  return { ...emptyProject(), image, crop, trajectories, brush, settings: { ...DEFAULT_SETTINGS, prompt: 'a cat', loop: true }, video };
}

/** Every value path of a document with the schema that governs it. */
function leaves(schema: Schema, v: unknown, path: (string | number)[] = []): { path: (string | number)[]; schema: Schema }[] {
  const s = resolve(schema);
  const here = [{ path, schema: s }];
  if (s.anyOf) {
    const branch = s.anyOf.find((x: Schema) => valid(x, v));
    return branch && resolve(branch).type !== 'null' ? leaves(branch, v, path) : here;
  }
  if (Array.isArray(v) && s.items) return [...here, ...v.flatMap((x, i) => leaves(s.items, x, [...path, i]))];
  if (typeOk('object', v) && s.properties) {
    return [
      ...here,
      ...Object.entries<Schema>(s.properties).flatMap(([k, p]) => leaves(p, (v as Record<string, unknown>)[k], [...path, k])),
    ];
  }
  return here;
}

function setAt(doc: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === REMOVE) delete o[last];
  else o[last] = value;
  return copy;
}
const REMOVE = Symbol('remove');

describe('docs/project.schema.json', () => {
  test("its versions and format are the code's", () => {
    expect(root.properties.format.const).toBe(PROJECT_FILE_FORMAT);
    expect(root.properties.version.const).toBe(PROJECT_FILE_VERSION);
    expect(defs.project.properties.version.const).toBe(PROJECT_VERSION);
  });

  test("its fields are the TypeScript types' fields", () => {
    const p = fullProject();
    const keys = (o: object) => Object.keys(o).sort();
    expect(keys(defs.project.properties)).toEqual(keys(p));
    // video is the one optional document field (image-to-video documents have none)
    expect([...defs.project.required, 'video'].sort()).toEqual(keys(p));
    expect(keys(defs.videoRef.properties)).toEqual(keys(p.video!));
    expect([...defs.videoRef.required].sort()).toEqual(keys(p.video!));
    expect(keys(defs.settings.properties)).toEqual(keys(DEFAULT_SETTINGS));
    // Settings added after version 1 may be missing (the reader gives them their default): the
    // schema states that default, and it must be the code's.
    const optional = keys(DEFAULT_SETTINGS).filter((k) => !defs.settings.required.includes(k));
    for (const k of optional)
      expect(defs.settings.properties[k].default, `settings.${k} default`).toEqual(DEFAULT_SETTINGS[k as keyof typeof DEFAULT_SETTINGS]);
    expect([...defs.settings.required, ...optional].sort()).toEqual(keys(DEFAULT_SETTINGS));
    expect(keys(defs.imageRef.properties)).toEqual(keys(p.image!));
    expect(keys(defs.crop.properties)).toEqual(keys(p.crop!));
    expect(keys(defs.canvas.properties)).toEqual(keys(p.canvas));
    expect(keys(defs.trajectory.properties)).toEqual(keys(p.trajectories[0]));
    expect(keys(defs.trajectory.properties.timing.properties)).toEqual(keys(p.trajectories[0].timing));
    expect(keys(defs.brushStroke.properties)).toEqual(keys(p.brush[0]));
    expect(keys(defs.point.properties)).toEqual(keys(p.trajectories[0].points[0]));
  });

  test('its limits are PROJECT_LIMITS', () => {
    const L = PROJECT_LIMITS;
    expect([defs.canvas.properties.width.minimum, defs.canvas.properties.width.maximum]).toEqual([L.canvasMin, L.canvasMax]);
    expect(defs.project.properties.trajectories.maxItems).toBe(L.maxTrajectories);
    expect(defs.project.properties.brush.maxItems).toBe(L.maxStrokes);
    expect(defs.points.maxItems).toBe(L.maxPointsPerPath);
    expect(defs.settings.properties.frames.maximum).toBe(L.framesMax);
    expect(defs.settings.properties.prompt.maxLength).toBe(L.promptMaxChars);
  });

  test("the editor's documents are valid", () => {
    for (const doc of [emptyProject(), fullProject()]) {
      expect(accepted(doc)).toBe(true);
      expect(valid(defs.project, doc)).toBe(true);
    }
  });

  test('at and past every limit, the schema and readProject agree', () => {
    const doc = fullProject();
    const cases: { what: string; doc: unknown }[] = [];
    for (const { path, schema: s } of leaves(defs.project, doc)) {
      if (path.length === 0) continue;
      const at = path.join('.');
      const parent = path.slice(0, -1);
      const parentSchema = leaves(defs.project, doc).find((l) => l.path.join('.') === parent.join('.'))?.schema;
      if (parentSchema?.required?.includes(path[path.length - 1])) cases.push({ what: `${at} removed`, doc: setAt(doc, path, REMOVE) });
      const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
      for (const wrong of [{}, 'text', 7, true, null, []])
        cases.push({ what: `${at} = ${JSON.stringify(wrong)}`, doc: setAt(doc, path, wrong) });
      if (types.includes('number') || types.includes('integer')) {
        for (const k of ['minimum', 'maximum', 'exclusiveMinimum'] as const) {
          if (s[k] === undefined) continue;
          for (const d of [-1, -0.5, 0, 0.5, 1])
            cases.push({ what: `${at} = ${k} ${d >= 0 ? '+' : ''}${d}`, doc: setAt(doc, path, s[k] + d) });
        }
        if (s.multipleOf) cases.push({ what: `${at} not a multiple`, doc: setAt(doc, path, s.minimum + s.multipleOf + 1) });
      }
      if (s.maxLength !== undefined) {
        cases.push({ what: `${at} at maxLength`, doc: setAt(doc, path, 'x'.repeat(s.maxLength)) });
        cases.push({ what: `${at} past maxLength`, doc: setAt(doc, path, 'x'.repeat(s.maxLength + 1)) });
      }
      if (s.minLength !== undefined) cases.push({ what: `${at} empty`, doc: setAt(doc, path, '') });
      if (s.enum) cases.push({ what: `${at} not in enum`, doc: setAt(doc, path, `${s.enum[0]}-x`) });
      if (s.maxItems !== undefined) {
        const item = (doc as any)[path[0]]?.[0] ?? { x: 0, y: 0 };
        const one = path[path.length - 1] === 'points' ? { x: 1, y: 2 } : item;
        cases.push({
          what: `${at} at maxItems`,
          doc: setAt(
            doc,
            path,
            Array.from({ length: s.maxItems }, (_, i) => ({ ...one, ...(one.id ? { id: `id${i}` } : {}) })),
          ),
        });
        cases.push({
          what: `${at} past maxItems`,
          doc: setAt(
            doc,
            path,
            Array.from({ length: s.maxItems + 1 }, (_, i) => ({ ...one, ...(one.id ? { id: `id${i}` } : {}) })),
          ),
        });
      }
      if (s.minItems) cases.push({ what: `${at} empty list`, doc: setAt(doc, path, []) });
    }
    expect(cases.length).toBeGreaterThan(300);
    const disagree = cases
      .filter((c) => valid(defs.project, c.doc) !== accepted(c.doc))
      .map(
        (c) =>
          `${c.what}: schema ${valid(defs.project, c.doc) ? 'accepts' : 'refuses'}, readProject ${accepted(c.doc) ? 'accepts' : 'refuses'}`,
      );
    expect(disagree).toEqual([]);
  });
});
