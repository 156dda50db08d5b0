/**
 * User-level operations that touch several stores (image storage + project + messages). Each
 * reports failures as a message in the editor store and leaves the project as it was.
 */
import { AppError } from '../errors';
import { CANVAS_PRESETS, type CanvasSize } from '../motion/types';
import { useEditorStore, type EditorMessage } from './editor';
import { coverCrop, importImage } from './image';
import { useProjectStore } from './project';
import { openProjectFile, projectFileName, serializeProject } from './projectFile';

export type CanvasPresetName = keyof typeof CANVAS_PRESETS;

export function toMessage(e: unknown): EditorMessage {
  if (e instanceof AppError) return { kind: 'error', code: e.code, text: e.message };
  return { kind: 'error', text: `Something went wrong: ${e instanceof Error ? e.message : String(e)}` };
}

/** Loads a picture (file picker, drop, paste, sample). Returns false (with a message) when refused. */
export async function loadImageFile(blob: Blob, name: string): Promise<boolean> {
  const editor = useEditorStore.getState();
  editor.showMessage({ kind: 'info', text: `Loading "${name}"…` });
  try {
    const { animated, ...ref } = await importImage(blob, name);
    const { project, setImage } = useProjectStore.getState();
    setImage(ref, coverCrop(ref.width, ref.height, project.canvas));
    editor.showMessage(
      animated
        ? {
            kind: 'info',
            code: 'image-animated',
            text: `"${name}" is animated; only its first frame is used (the motion comes from your trajectories).`,
          }
        : null,
    );
    return true;
  } catch (e) {
    editor.showMessage(toMessage(e));
    return false;
  }
}

/** Opens a project file (.json). Returns false (with a message) when refused. */
export async function openProject(file: File): Promise<boolean> {
  const editor = useEditorStore.getState();
  try {
    const repairs = await openProjectFile(file);
    editor.setActiveTrajectory(null);
    editor.select(null);
    editor.showMessage({
      kind: 'info',
      code: repairs.length ? 'project-repaired' : undefined,
      text: repairs.length ? `Opened "${file.name}" with repairs: ${repairs.join('; ')}.` : `Opened "${file.name}".`,
    });
    return true;
  } catch (e) {
    editor.showMessage(toMessage(e));
    return false;
  }
}

/** Saves the project as one .json file (the browser's download). */
export async function saveProject(): Promise<void> {
  const { project } = useProjectStore.getState();
  try {
    const blob = await serializeProject(project);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = projectFileName(project);
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    useEditorStore.getState().showMessage(toMessage(e));
  }
}

export function presetOf(canvas: CanvasSize): CanvasPresetName | null {
  for (const [name, c] of Object.entries(CANVAS_PRESETS)) {
    if (c.width === canvas.width && c.height === canvas.height) return name as CanvasPresetName;
  }
  return null;
}

/** Changes the canvas size; the crop is re-centred to cover the new shape, points are kept inside. */
export function setCanvasPreset(name: CanvasPresetName): void {
  const { project, setCanvas } = useProjectStore.getState();
  const canvas = CANVAS_PRESETS[name];
  if (canvas.width === project.canvas.width && canvas.height === project.canvas.height) return;
  setCanvas(canvas, project.image ? coverCrop(project.image.width, project.image.height, canvas) : null);
}
