/**
 * CropTool: drag the picture to move the cover-crop box (which part of the photo fills the
 * canvas). The crop is in original-image pixels; dragging right shows more of the left side.
 *
 *   idle --down--> moving --move--> moving --up--> idle (commit) | --Esc--> idle (roll back)
 */
import type { CropBox, Point } from '../../motion/types';
import { coverCrop, moveCrop } from '../../state/image';
import { useProjectStore } from '../../state/project';
import type { CanvasPointer, Tool } from './types';

type State = { name: 'idle' } | { name: 'moving'; downAt: Point; start: CropBox };

export class CropTool implements Tool {
  readonly name = 'crop';
  private state: State = { name: 'idle' };

  get stateName(): string {
    return this.state.name;
  }

  onPointerDown(e: CanvasPointer): void {
    const { project, mark } = useProjectStore.getState();
    if (!project.image) return;
    mark();
    this.state = {
      name: 'moving',
      downAt: e.point,
      start: project.crop ?? coverCrop(project.image.width, project.image.height, project.canvas),
    };
  }

  onPointerMove(e: CanvasPointer): void {
    const s = this.state;
    if (s.name !== 'moving') return;
    const { project, setCrop } = useProjectStore.getState();
    if (!project.image) return;
    const perCanvasPx = s.start.width / project.canvas.width;
    setCrop(moveCrop(s.start, -(e.point.x - s.downAt.x) * perCanvasPx, -(e.point.y - s.downAt.y) * perCanvasPx, project.image));
  }

  onPointerUp(e: CanvasPointer): void {
    if (this.state.name !== 'moving') return;
    this.onPointerMove(e);
    this.state = { name: 'idle' };
    useProjectStore.getState().commit();
  }

  onPointerLeave(): void {}

  onKeyDown(key: string): boolean {
    if (key === 'Escape' && this.state.name !== 'idle') {
      this.cancel();
      return true;
    }
    return false;
  }

  cancel(): void {
    if (this.state.name === 'moving') useProjectStore.getState().cancel();
    this.state = { name: 'idle' };
  }
}
