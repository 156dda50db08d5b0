/**
 * Project files: one .json with the document and the original image embedded as a data URL, so
 * a project moves between browsers as a single file. Opening checks the file completely (format,
 * version, document, image) before anything in the current project changes.
 */
import { AppError } from '../errors';
import { readProject, type Normalized } from '../motion/project';
import type { Project } from '../motion/types';
import { blobToDataUrl, dataUrlToBlob, getOriginalImage, importImage } from './image';
import { useProjectStore } from './project';
import { importVideo } from './video';

export const PROJECT_FILE_FORMAT = 'motion-i2v-web/project';
export const PROJECT_FILE_VERSION = 1;
/** Project files larger than this are refused before parsing (the embedded image dominates). */
export const MAX_PROJECT_FILE_BYTES = 200 * 1024 * 1024;

export interface ProjectFile {
  format: typeof PROJECT_FILE_FORMAT;
  version: number;
  savedAt: string;
  project: Project;
  /** The original image as a data URL; null when the project has no image. */
  image: string | null;
  /** Video-to-video: the source video as a data URL (absent without one). */
  video?: string | null;
}

export async function serializeProject(project: Project): Promise<Blob> {
  let image: string | null = null;
  if (project.image) {
    const blob = await getOriginalImage(project.image.id);
    if (!blob)
      throw new AppError(
        'storage',
        `The image "${project.image.name}" is missing from this browser's storage; load it again before saving.`,
      );
    image = await blobToDataUrl(blob);
  }
  let video: string | null = null;
  if (project.video) {
    const blob = await getOriginalImage(project.video.id);
    if (!blob)
      throw new AppError(
        'storage',
        `The video "${project.video.name}" is missing from this browser's storage; load it again before saving.`,
      );
    video = await blobToDataUrl(blob);
  }
  const file: ProjectFile = {
    format: PROJECT_FILE_FORMAT,
    version: PROJECT_FILE_VERSION,
    savedAt: new Date().toISOString(),
    project,
    image,
    ...(video ? { video } : {}),
  };
  return new Blob([JSON.stringify(file)], { type: 'application/json' });
}

export function projectFileName(project: Project): string {
  const base = project.image?.name.replace(/\.[^.]*$/, '') || 'motion';
  return `${base.replace(/[^\w.-]+/g, '_')}.motion-i2v.json`;
}

/**
 * Parses and checks a project file; stores its image under the hash of the image's bytes (the
 * id the file claims is not trusted) and checks the document against the real image's size.
 * Returns the project and what was repaired.
 */
export async function readProjectFile(file: Blob, name = 'project file'): Promise<Normalized> {
  if (file.size > MAX_PROJECT_FILE_BYTES) {
    throw new AppError('project-file', `"${name}" is ${(file.size / 1e6).toFixed(0)} MB, too large for a project file.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch {
    throw new AppError('project-file', `"${name}" is not a project file (it is not valid JSON).`);
  }
  const f = json as Partial<ProjectFile> | null;
  if (!f || typeof f !== 'object' || f.format !== PROJECT_FILE_FORMAT) {
    throw new AppError('project-file', `"${name}" is not a Motion-I2V project file (no "format": "${PROJECT_FILE_FORMAT}").`);
  }
  if (typeof f.version !== 'number' || !Number.isInteger(f.version) || f.version < 1) {
    throw new AppError('project-file', `"${name}" has no valid version number.`);
  }
  if (f.version > PROJECT_FILE_VERSION) {
    throw new AppError(
      'project-version',
      `"${name}" was saved by a newer version of this app (file version ${f.version}; this app reads up to ${PROJECT_FILE_VERSION}). Update the app (reload the page) and try again.`,
    );
  }
  const read = readProject(f.project);
  const { project, repairs } = await withEmbeddedVideo(read, f, name);
  if (project.image) {
    if (typeof f.image !== 'string') throw new AppError('project-file', `"${name}" refers to an image but does not contain it.`);
    const blob = dataUrlToBlob(f.image);
    let ref;
    try {
      ref = await importImage(blob, project.image.name);
    } catch (e) {
      if (e instanceof AppError)
        throw new AppError('project-file', `The image inside "${name}" cannot be used: ${e.message}`, { cause: e });
      throw e;
    }
    const claimed = project.image;
    if (ref.width !== claimed.width || ref.height !== claimed.height) {
      repairs.push(`the photo is ${ref.width}x${ref.height}, not ${claimed.width}x${claimed.height} as the file said`);
    }
    const again = readProject({ ...project, image: { id: ref.id, name: claimed.name, width: ref.width, height: ref.height } });
    return { project: again.project, repairs: [...repairs, ...again.repairs] };
  }
  return { project, repairs };
}

/**
 * Stores the file's source video (video-to-video) under the hash of its bytes and puts its real
 * id and size into the document; a project whose video is missing or unusable opens without it.
 */
async function withEmbeddedVideo(read: Normalized, f: Partial<ProjectFile>, name: string): Promise<Normalized> {
  const { project } = read;
  if (!project.video) return read;
  const repairs = [...read.repairs];
  const { video: claimed, ...withoutVideo } = project;
  if (typeof f.video !== 'string') {
    repairs.push(`"${name}" refers to a source video but does not contain it; load the video again`);
    return { project: withoutVideo, repairs };
  }
  try {
    const ref = await importVideo(dataUrlToBlob(f.video), claimed.name);
    const again = readProject({
      ...project,
      video: {
        ...claimed,
        id: ref.id,
        width: ref.width,
        height: ref.height,
        duration: ref.duration,
        frameCount: ref.frameCount,
        fps: ref.fps,
      },
    });
    return { project: again.project, repairs: [...repairs, ...again.repairs] };
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    repairs.push(`the source video inside "${name}" cannot be used (${e.message})`);
    return { project: withoutVideo, repairs };
  }
}

/** Opens a project file into the store (one undoable step). The current project is untouched on error. Returns what was repaired. */
export async function openProjectFile(file: File): Promise<string[]> {
  const { project, repairs } = await readProjectFile(file, file.name);
  useProjectStore.getState().loadProject(project);
  return repairs;
}
