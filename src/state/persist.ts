/**
 * Autosave: each project is stored in IndexedDB under its own id (`project:<id>`, with a small
 * `meta:<id>` record: when it was saved and which image it uses), shortly after every change
 * outside a gesture and at once when the page is hidden or closed. Images live under their
 * content hash (image.ts), shared by every project that uses them.
 *
 * Tabs: this tab's project id is kept in sessionStorage (a reload restores the same project);
 * a new tab opens the most recently saved one. While a tab edits a project it holds an exclusive
 * Web Lock named after it, and only the holder writes that project: a second tab that would
 * open the same project (duplicated tab, new tab on the most recent) gets its own copy under a
 * new id, so no tab's autosave ever overwrites another tab's work.
 *
 * The single autosave of earlier versions (`project:autosave`) reads as the project with id
 * "autosave", so nothing needs migrating.
 *
 * The undo history is kept too (`history:<id>`, written with the project): the newest
 * HISTORY_KEPT steps each way within a point budget, so a project with huge paths keeps fewer
 * steps instead of slowing every save. On restore every stored step passes the same validator
 * as the project; a history that does not (or whose photo is gone) is not restored, the project
 * still is, and the record stays as it was. Photos that kept steps use count as used.
 *
 * Restore never deletes: a project that fails to load stays stored as it was (the user can
 * download it), this tab continues on a fresh id, and images are deleted only when no stored
 * project refers to them, no tab holds them, and every stored project could be read.
 */
import { create } from 'zustand';
import { get, getMany, keys, setMany } from 'idb-keyval';
import { AppError } from '../errors';
import { countPoints, readProject } from '../motion/project';
import { emptyProject, type Project } from '../motion/types';
import { appDb, deleteUnusedImages, getOriginalImage, holdImages, storedImageSize } from './image';
import { HISTORY_LIMIT, useProjectStore, type ProjectState } from './project';

const PROJECT_PREFIX = 'project:';
const META_PREFIX = 'meta:';
const HISTORY_PREFIX = 'history:';
/** Undo (and redo) steps kept across a reload, each way. */
export const HISTORY_KEPT = 50;
/** Trajectory and brush points all kept steps may hold together. */
export const HISTORY_POINT_BUDGET = 200_000;
const SESSION_KEY = 'motion-i2v:project-id';
const PROJECT_LOCK_PREFIX = 'motion-i2v-project:';
/**
 * Leaving the page: IndexedDB transactions still running when a page unloads are aborted, so
 * the last edit is ALSO written synchronously to localStorage; restore takes it when it is newer
 * than the IndexedDB record, and the next IndexedDB save removes it.
 */
const PENDING_PREFIX = 'motion-i2v:pending:';
/** Wait this long after the last change before writing (ms). */
export const AUTOSAVE_DELAY_MS = 300;

export type SaveStatus = 'idle' | 'pending' | 'saving' | 'saved' | 'error';

export interface RestoreProblem {
  /** What went wrong, for the user. */
  text: string;
  /** The stored record as it is (to download); null when it could not even be read. */
  raw: unknown;
  projectId: string;
}

export const useAutosaveStore = create<{
  status: SaveStatus;
  error: string | null;
  /** The id this tab saves its project under. */
  projectId: string | null;
  /** A stored project that could not be restored (kept, offered for download). */
  restoreProblem: RestoreProblem | null;
  /** What restore or open repaired, for the notice. */
  repairs: string[];
}>()(() => ({ status: 'idle', error: null, projectId: null, restoreProblem: null, repairs: [] }));

interface AutosaveRecord {
  savedAt: string;
  project: unknown;
}
interface MetaRecord {
  savedAt: string;
  imageId: string | null;
  /** Video-to-video source (stored beside the images); absent in older records. */
  videoId?: string | null;
  /** Photos the kept undo steps use (they must stay stored). */
  historyImageIds?: string[];
}
interface HistoryRecord {
  savedAt: string;
  past: unknown[];
  future: unknown[];
}

function pointsOf(p: Project): number {
  return countPoints(p.trajectories) + countPoints(p.brush) + 1;
}

/** The steps nearest the present, at most HISTORY_KEPT each way and HISTORY_POINT_BUDGET points in all. */
export function boundHistory(past: readonly Project[], future: readonly Project[]): { past: Project[]; future: Project[] } {
  let budget = HISTORY_POINT_BUDGET;
  const keptPast: Project[] = [];
  const keptFuture: Project[] = [];
  let i = past.length - 1;
  let j = 0;
  // Alternate so a long redo list cannot starve undo (or the other way round).
  while ((i >= 0 && keptPast.length < HISTORY_KEPT) || (j < future.length && keptFuture.length < HISTORY_KEPT)) {
    let took = false;
    if (i >= 0 && keptPast.length < HISTORY_KEPT && pointsOf(past[i]) <= budget) {
      budget -= pointsOf(past[i]);
      keptPast.push(past[i--]);
      took = true;
    }
    if (j < future.length && keptFuture.length < HISTORY_KEPT && pointsOf(future[j]) <= budget) {
      budget -= pointsOf(future[j]);
      keptFuture.push(future[j++]);
      took = true;
    }
    if (!took) break;
  }
  return { past: keptPast.reverse(), future: keptFuture };
}

function newProjectId(): string {
  return `p-${crypto.randomUUID()}`;
}

function sessionProjectId(): string | null {
  try {
    return sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}
function setSessionProjectId(id: string): void {
  try {
    sessionStorage.setItem(SESSION_KEY, id);
  } catch {
    // Private modes without sessionStorage: a reload then opens the most recent project.
  }
}

function readPending(id: string): AutosaveRecord | null {
  try {
    const text = localStorage.getItem(PENDING_PREFIX + id);
    if (!text) return null;
    const rec = JSON.parse(text) as AutosaveRecord;
    return typeof rec?.savedAt === 'string' ? rec : null;
  } catch {
    return null;
  }
}

function writePending(): void {
  const id = useAutosaveStore.getState().projectId;
  if (!id || !ownsProject) return;
  const { project, gestureBase } = useProjectStore.getState();
  try {
    localStorage.setItem(
      PENDING_PREFIX + id,
      JSON.stringify({ savedAt: new Date().toISOString(), project: gestureBase ?? project } satisfies AutosaveRecord),
    );
  } catch {
    // Full or unavailable: the IndexedDB write started alongside may still complete.
  }
}

function clearPending(id: string, savedUpTo: string): void {
  try {
    const p = readPending(id);
    if (p && p.savedAt <= savedUpTo) localStorage.removeItem(PENDING_PREFIX + id);
  } catch {
    // nothing to clear
  }
}

/** Image ids of the pending (localStorage) records: they count as stored projects for cleanup. */
function pendingImageIds(): string[] {
  const out: string[] = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k?.startsWith(PENDING_PREFIX)) continue;
      const doc = readPending(k.slice(PENDING_PREFIX.length))?.project as
        | { image?: { id?: unknown }; video?: { id?: unknown } }
        | undefined;
      for (const id of [doc?.image?.id, doc?.video?.id]) if (typeof id === 'string') out.push(id);
    }
  } catch {
    // no localStorage: nothing pending
  }
  return out;
}

// ---- project locks ----

let releaseProjectLock: (() => void) | null = null;
/** True when this tab may write its project id (it holds the lock, or the browser has no Web Locks). */
let ownsProject = false;

/** Takes the exclusive lock for `id` if no other tab has it; releases the one held before. */
async function claimProject(id: string): Promise<boolean> {
  releaseProjectLock?.();
  releaseProjectLock = null;
  ownsProject = false;
  const locks = globalThis.navigator?.locks;
  if (!locks) {
    ownsProject = true;
    return true;
  }
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const got = await new Promise<boolean>((resolve) => {
    void locks
      .request(PROJECT_LOCK_PREFIX + id, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock ? released : undefined;
      })
      .catch(() => resolve(false));
  });
  if (got) {
    releaseProjectLock = release;
    ownsProject = true;
  }
  return got;
}

function adoptProjectId(id: string): void {
  useAutosaveStore.setState({ projectId: id });
  setSessionProjectId(id);
}

/** Continue on a new id (an empty project or a copy); never touches stored records. */
async function switchToNewId(): Promise<string> {
  for (;;) {
    const id = newProjectId();
    if (await claimProject(id)) {
      adoptProjectId(id);
      return id;
    }
  }
}

// ---- reading stored projects ----

interface StoredSummary {
  id: string;
  savedAt: string;
}

async function listStoredProjects(): Promise<StoredSummary[]> {
  const ids = (await keys(appDb))
    .filter((k): k is string => typeof k === 'string' && k.startsWith(PROJECT_PREFIX))
    .map((k) => k.slice(PROJECT_PREFIX.length));
  const metas = await getMany<MetaRecord>(
    ids.map((id) => META_PREFIX + id),
    appDb,
  );
  // Legacy records have no meta; they count as old (the newest with a meta wins).
  return ids
    .map((id, i) => ({ id, savedAt: metas[i]?.savedAt ?? '' }))
    .sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0));
}

/** The image ids stored projects refer to; null when some record cannot be read (then nothing is deleted). */
async function referencedImages(): Promise<Set<string> | null> {
  const ids = (await keys(appDb))
    .filter((k): k is string => typeof k === 'string' && k.startsWith(PROJECT_PREFIX))
    .map((k) => k.slice(PROJECT_PREFIX.length));
  const metas = await getMany<MetaRecord>(
    ids.map((id) => META_PREFIX + id),
    appDb,
  );
  const out = new Set<string>(pendingImageIds());
  for (let i = 0; i < ids.length; i++) {
    const meta = metas[i];
    if (meta) {
      if (meta.imageId) out.add(meta.imageId);
      if (meta.videoId) out.add(meta.videoId);
      for (const h of meta.historyImageIds ?? []) if (typeof h === 'string') out.add(h);
      continue;
    }
    const rec = await get<AutosaveRecord>(PROJECT_PREFIX + ids[i], appDb);
    const video = (rec?.project as { video?: { id?: unknown } } | undefined)?.video;
    if (video && typeof video.id === 'string') out.add(video.id);
    const image = (rec?.project as { image?: { id?: unknown } } | undefined)?.image;
    if (image === null) continue;
    if (!image || typeof image.id !== 'string') return null;
    out.add(image.id);
  }
  return out;
}

/**
 * A stored record through the one validator, with its image checked against the real stored
 * original (size from its header): a crop valid for the size the record claims but not for the
 * real image is repaired, not trusted.
 */
async function restoreRecord(record: AutosaveRecord): Promise<{ project: Project; repairs: string[] }> {
  const read = readProject(record.project);
  let { project } = read;
  const repairs = [...read.repairs];
  if (project.image) {
    const real = await storedImageSize(project.image.id);
    if (!real) {
      throw new AppError('storage', `its photo "${project.image.name}" is no longer in this browser's storage`);
    }
    if (real.width !== project.image.width || real.height !== project.image.height) {
      repairs.push(`the photo is ${real.width}x${real.height}, not ${project.image.width}x${project.image.height} as the project said`);
      const again = readProject({ ...project, image: { ...project.image, ...real } });
      project = again.project;
      repairs.push(...again.repairs);
    }
  }
  if (project.video && !(await getOriginalImage(project.video.id).catch(() => undefined))) {
    // The source video is only an input of video-to-video: the rest of the project stays usable.
    repairs.push(`its source video "${project.video.name}" is no longer in this browser's storage; load it again`);
    const { video: _gone, ...rest } = project;
    project = rest;
  }
  return { project, repairs };
}

/**
 * The stored undo history of `id`, every step through the one validator and with its photo
 * still stored; empty (and a reason) when it cannot be used. Reads only; deletes nothing.
 */
async function restoreHistory(id: string): Promise<{ past: Project[]; future: Project[]; problem: string | null }> {
  const none = { past: [], future: [] };
  let rec: HistoryRecord | undefined;
  try {
    rec = await get<HistoryRecord>(HISTORY_PREFIX + id, appDb);
  } catch {
    return { ...none, problem: 'its undo history could not be read' };
  }
  if (rec === undefined) return { ...none, problem: null };
  if (
    !rec ||
    !Array.isArray(rec.past) ||
    !Array.isArray(rec.future) ||
    rec.past.length > HISTORY_LIMIT ||
    rec.future.length > HISTORY_LIMIT
  ) {
    return { ...none, problem: 'its undo history is damaged' };
  }
  try {
    const past = rec.past.map((p) => readProject(p).project);
    const future = rec.future.map((p) => readProject(p).project);
    const sizes = new Map<string, boolean>();
    for (const p of [...past, ...future]) {
      if (!p.image || sizes.has(p.image.id)) continue;
      const real = await storedImageSize(p.image.id);
      sizes.set(p.image.id, !!real && real.width === p.image.width && real.height === p.image.height);
    }
    const usable = (p: Project) => !p.image || sizes.get(p.image.id) === true;
    // A step whose photo is gone ends the history there (nothing beyond it is reachable honestly).
    let from = past.length;
    while (from > 0 && usable(past[from - 1])) from--;
    let to = 0;
    while (to < future.length && usable(future[to])) to++;
    const cut = from > 0 || to < future.length;
    return {
      past: past.slice(from),
      future: future.slice(0, to),
      problem: cut ? 'undo steps that used a photo no longer stored were left out' : null,
    };
  } catch (e) {
    return { ...none, problem: `its undo history did not pass the checks (${e instanceof Error ? e.message : String(e)})` };
  }
}

export interface HydrateResult {
  restored: boolean;
  /** A message for the user when something was not restored as saved; null when all went well. */
  problem: string | null;
  /** The message only informs (repairs made, a copy of another tab's project): nothing failed. */
  informative?: boolean;
}

/** Set when the user chose "Start fresh" while a restore was still running: its result is dropped. */
let hydrateGeneration = 0;

/**
 * Restores this tab's project (sessionStorage id) or the most recent stored one. Never deletes a
 * stored project; on failure the record stays, is offered for download, and this tab starts
 * empty on a new id.
 */
export async function hydrateProject(): Promise<HydrateResult> {
  const generation = ++hydrateGeneration;
  const store = useProjectStore.getState();
  const stillWanted = () => generation === hydrateGeneration;
  let problem: string | null = null;
  let informative = false;
  let restored = false;
  let chosen: string | null = null;
  try {
    const stored = await listStoredProjects();
    const own = sessionProjectId();
    chosen = own && (stored.some((s) => s.id === own) || readPending(own)) ? own : (stored[0]?.id ?? null);
    if (!stillWanted()) return { restored: false, problem: null };
    if (!chosen) {
      if (own && (await claimProject(own))) adoptProjectId(own);
      else await switchToNewId();
      store.resetProject(emptyProject(), { hydrated: true });
      return { restored: false, problem: null };
    }
    const storedRecord = await get<AutosaveRecord>(PROJECT_PREFIX + chosen, appDb);
    const pending = readPending(chosen);
    const fromPending = pending !== null && (!storedRecord || pending.savedAt > storedRecord.savedAt);
    const record = fromPending ? pending : storedRecord;
    if (!stillWanted()) return { restored: false, problem: null };
    const mine = await claimProject(chosen);
    if (!stillWanted()) return { restored: false, problem: null };
    try {
      if (!record) throw new AppError('storage', 'the stored record is empty');
      const { project, repairs } = await restoreRecord(record);
      if (!stillWanted()) return { restored: false, problem: null };
      // Another tab is editing it: this tab continues on a copy.
      if (mine) adoptProjectId(chosen);
      else await switchToNewId();
      const history = await restoreHistory(chosen);
      if (!stillWanted()) return { restored: false, problem: null };
      holdImages([project, ...history.past, ...history.future].flatMap((p) => [p.image?.id, p.video?.id]).filter((x): x is string => !!x));
      store.resetProject(project, { hydrated: true, past: history.past, future: history.future });
      restored = true;
      if (history.problem) repairs.push(`the undo history was not restored in full (${history.problem})`);
      // The last edit before leaving was only in localStorage: put it in IndexedDB now.
      if (fromPending && mine) void saveNow();
      if (repairs.length) {
        useAutosaveStore.setState({ repairs });
        problem = `Your project was restored with repairs: ${repairs.join('; ')}.`;
      }
      informative = true;
      if (!mine)
        problem =
          'This project is open in another tab; this tab works on a copy, so neither overwrites the other.' +
          (problem ? ` ${problem}` : '');
    } catch (e) {
      const why = (e instanceof Error ? e.message.replace(/^This project file is damaged or not a project: /, '') : String(e)).replace(
        /\.$/,
        '',
      );
      useAutosaveStore.setState({ restoreProblem: { text: why, raw: record ?? null, projectId: chosen } });
      problem = `Your saved project could not be restored (${why}). Nothing was deleted: it stays stored in this browser, and you can download it from the notice below. This tab starts a new project.`;
      await switchToNewId();
    }
  } catch (e) {
    problem = `This browser's storage could not be read (${e instanceof Error ? e.message : String(e)}); starting a new project. Nothing was deleted.`;
    if (!useAutosaveStore.getState().projectId) await switchToNewId().catch(() => undefined);
  }
  if (!stillWanted()) return { restored: false, problem: null };
  if (!restored) store.resetProject(emptyProject(), { hydrated: true });
  void cleanUpImages();
  return { restored, problem, informative: informative && restored };
}

/**
 * "Start fresh" while a restore is slow or failed: this tab continues empty on a new id; every
 * stored project (the one being restored included) stays as it is.
 */
export async function startFresh(): Promise<void> {
  hydrateGeneration++;
  await switchToNewId();
  useProjectStore.getState().resetProject(emptyProject(), { hydrated: true });
}

/** Deletes originals no stored project, and no open tab, uses. */
export async function cleanUpImages(): Promise<string[]> {
  try {
    return await deleteUnusedImages(await referencedImages());
  } catch {
    return [];
  }
}

/** The stored record of a project that failed to restore, as a downloadable JSON file. */
export function restoreProblemBlob(p: RestoreProblem): Blob {
  return new Blob([JSON.stringify({ projectId: p.projectId, record: p.raw }, null, 1)], { type: 'application/json' });
}

// ---- writing ----

export async function saveNow(): Promise<void> {
  const { project, gestureBase, past, future } = useProjectStore.getState();
  const id = useAutosaveStore.getState().projectId;
  if (!id || !ownsProject) return;
  const doc = gestureBase ?? project;
  const history = boundHistory(past, future);
  // Photos (and video-to-video sources, stored beside them) that kept steps use.
  const historyImageIds = [
    ...new Set(
      [...history.past, ...history.future]
        .flatMap((p) => [p.image?.id, p.video?.id])
        .filter((x): x is string => !!x && x !== doc.image?.id && x !== doc.video?.id),
    ),
  ];
  useAutosaveStore.setState({ status: 'saving' });
  try {
    const savedAt = new Date().toISOString();
    await setMany(
      [
        [PROJECT_PREFIX + id, { savedAt, project: doc } satisfies AutosaveRecord],
        [
          META_PREFIX + id,
          { savedAt, imageId: doc.image?.id ?? null, videoId: doc.video?.id ?? null, historyImageIds } satisfies MetaRecord,
        ],
        [HISTORY_PREFIX + id, { savedAt, ...history } satisfies HistoryRecord],
      ],
      appDb,
    );
    clearPending(id, savedAt);
    if (useAutosaveStore.getState().status === 'saving') useAutosaveStore.setState({ status: 'saved', error: null });
  } catch (e) {
    useAutosaveStore.setState({ status: 'error', error: `Autosave failed: ${String(e)}` });
  }
}

/** Image ids the store's memory refers to (project, history, gesture base). */
function imagesInMemory(s: ProjectState): string[] {
  const ids = new Set<string>();
  for (const p of [s.project, s.gestureBase, ...s.past, ...s.future]) {
    if (p?.image) ids.add(p.image.id);
    if (p?.video) ids.add(p.video.id);
  }
  return [...ids];
}

/** Starts writing the project after changes; returns a stop function. */
export function startAutosave(): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pendingQueued = false;
  const unsubscribe = useProjectStore.subscribe((state, prev) => {
    if (state.project !== prev.project || state.past !== prev.past || state.future !== prev.future) holdImages(imagesInMemory(state));
    if (!state.hydrated || state.gestureBase) return;
    if (state.project === prev.project && prev.gestureBase === null) return;
    useAutosaveStore.setState({ status: 'pending' });
    // The edit reaches synchronous storage now, not only when the page is left: a reload right
    // after an edit on a loaded machine lost it (neither the write made during pagehide nor the
    // IndexedDB transaction started then had landed when the new page read them). One write per
    // task however many updates it holds; the IndexedDB save below still debounces.
    if (!pendingQueued) {
      pendingQueued = true;
      queueMicrotask(() => {
        pendingQueued = false;
        writePending();
      });
    }
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void saveNow();
    }, AUTOSAVE_DELAY_MS);
  });
  // Leaving (reload, close, switching away on mobile): write now; IndexedDB completes a
  // transaction started before the page goes away.
  const flush = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    writePending();
    void saveNow();
  };
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') flush();
  };
  window.addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', onVisibility);
  return () => {
    unsubscribe();
    window.removeEventListener('pagehide', flush);
    document.removeEventListener('visibilitychange', onVisibility);
    if (timer) clearTimeout(timer);
  };
}
