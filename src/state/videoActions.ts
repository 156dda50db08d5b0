/**
 * Video-to-video operations the UI calls: load a source video, use its first frame as the
 * restyled frame, remove it. Each reports failures as a message in the editor store and leaves
 * the project exactly as it was (the video is stored and checked before the one edit).
 */
import { toMessage, loadImageFile } from './actions';
import { useEditorStore } from './editor';
import { useProjectStore } from './project';
import { firstFramePng, importVideo } from './video';

/** File types offered by the video picker (what mediabunny's demuxers read). */
export const VIDEO_ACCEPT = 'video/mp4,video/webm,video/quicktime,video/x-matroska,.mp4,.m4v,.webm,.mov,.mkv';

export function isVideoFile(f: File): boolean {
  return f.type.startsWith('video/') || /\.(mp4|m4v|webm|mov|mkv)$/i.test(f.name);
}

/** Loads a source video (file picker or drop). Returns false (with a message) when refused. */
export async function loadVideoFile(blob: Blob, name: string): Promise<boolean> {
  const editor = useEditorStore.getState();
  editor.showMessage({ kind: 'info', text: `Reading the video "${name}"…` });
  try {
    const ref = await importVideo(blob, name);
    useProjectStore.getState().setVideo(ref);
    editor.showMessage(null);
    return true;
  } catch (e) {
    editor.showMessage(toMessage(e));
    return false;
  }
}

/** Makes the source video's first frame (at its start time) the picture that is animated. */
export async function takeSourceFirstFrame(): Promise<boolean> {
  const video = useProjectStore.getState().project.video;
  if (!video) return false;
  const previous = useProjectStore.getState().project.image;
  try {
    const png = await firstFramePng(video);
    const done = await loadImageFile(png, `${video.name.replace(/\.[^.]*$/, '')} first frame.png`);
    // The animated picture is the project's photo: say that it was replaced and how to get it back.
    if (done && previous)
      useEditorStore.getState().showMessage({
        kind: 'info',
        code: 'photo-replaced',
        text: `The picture to animate is now the video's first frame; "${previous.name}" was replaced. Undo (Ctrl+Z) brings it back.`,
      });
    return done;
  } catch (e) {
    useEditorStore.getState().showMessage(toMessage(e));
    return false;
  }
}

/** Back to image-to-video: the project forgets its source video (undoable). */
export function removeVideo(): void {
  useProjectStore.getState().setVideo(null);
}
