/** The editor's tools, one instance each for the app (they hold only gesture state). */
import type { ToolName } from '../../state/editor';
import { BrushTool } from './brushTool';
import { CropTool } from './cropTool';
import { KeyboardPointer } from './keyboardPointer';
import { TrajectoryTool } from './trajectoryTool';
import type { Tool } from './types';

export const trajectoryTool = new TrajectoryTool();
export const tools: Record<ToolName, Tool> = {
  trajectory: trajectoryTool,
  brush: new BrushTool('paint'),
  erase: new BrushTool('erase'),
  crop: new CropTool(),
};
/** The keyboard's pointer on the editor canvas (one cursor, whichever tool is current). */
export const keyboardPointer = new KeyboardPointer();
