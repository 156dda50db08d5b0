/** The toolbar: files, canvas preset, tools, brush size, Flow Unit, undo/redo. */
import { useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { loadImageFile, openProject, presetOf, saveProject, setCanvasPreset, type CanvasPresetName } from '../state/actions';
import { BRUSH_RADIUS, useEditorStore, type ToolName } from '../state/editor';
import { canRedo, canUndo, useProjectStore } from '../state/project';
import { PROJECT_LIMITS } from '../motion/project';
import { tools } from './tools';

const TOOLS: { name: ToolName; label: string; key: string; title: string }[] = [
  { name: 'trajectory', label: 'Trajectory', key: 'T', title: 'Click to add points (one click = anchor), drag to sketch, drag a point to move it. Enter finishes a trajectory.' },
  { name: 'brush', label: 'Brush', key: 'B', title: 'Paint the region that may move. If nothing is painted, everything may move.' },
  { name: 'erase', label: 'Erase', key: 'E', title: 'Erase brush paint.' },
  { name: 'crop', label: 'Move crop', key: 'C', title: 'Drag the photo to choose which part fills the canvas.' },
];

const PRESETS: { name: CanvasPresetName; label: string }[] = [
  { name: 'landscape', label: 'Landscape 512×320' },
  { name: 'portrait', label: 'Portrait 320×512' },
  { name: 'square', label: 'Square 320×320' },
];

export function Toolbar() {
  const imageInput = useRef<HTMLInputElement>(null);
  const projectInput = useRef<HTMLInputElement>(null);
  const { tool, brushRadius, setTool, setBrushRadius } = useEditorStore(
    useShallow((s) => ({ tool: s.tool, brushRadius: s.brushRadius, setTool: s.setTool, setBrushRadius: s.setBrushRadius })),
  );
  const { undoable, redoable, canvas, flowUnit, hasImage } = useProjectStore(
    useShallow((s) => ({
      undoable: canUndo(s),
      redoable: canRedo(s),
      canvas: s.project.canvas,
      flowUnit: s.project.settings.flowUnit,
      hasImage: s.project.image !== null,
    })),
  );
  const preset = presetOf(canvas);
  const switchTool = (name: ToolName) => {
    tools[tool].cancel();
    setTool(name);
  };

  return (
    <div className="toolbar" role="toolbar" aria-label="Editor tools">
      <div className="group">
        <button type="button" data-testid="open-image" onClick={() => imageInput.current?.click()}>
          Open image…
        </button>
        <input
          ref={imageInput}
          type="file"
          accept="image/*"
          hidden
          data-testid="image-input"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (f) void loadImageFile(f, f.name);
          }}
        />
        <button type="button" data-testid="open-project" onClick={() => projectInput.current?.click()}>
          Open project…
        </button>
        <input
          ref={projectInput}
          type="file"
          accept=".json,application/json"
          hidden
          data-testid="project-input"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (f) void openProject(f);
          }}
        />
        <button type="button" data-testid="save-project" disabled={!hasImage} onClick={() => void saveProject()}>
          Save project
        </button>
      </div>

      <div className="group">
        <label>
          Canvas{' '}
          <select
            data-testid="canvas-preset"
            value={preset ?? ''}
            onChange={(e) => setCanvasPreset(e.currentTarget.value as CanvasPresetName)}
          >
            {preset === null && <option value="">{`${canvas.width}×${canvas.height}`}</option>}
            {PRESETS.map((p) => (
              <option key={p.name} value={p.name}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
      </div>

      <div className="group tools" role="radiogroup" aria-label="Tool">
        {TOOLS.map((t) => (
          <button
            key={t.name}
            type="button"
            role="radio"
            aria-checked={tool === t.name}
            className={tool === t.name ? 'active' : ''}
            data-testid={`tool-${t.name}`}
            title={`${t.title} (${t.key})`}
            onClick={() => switchTool(t.name)}
          >
            {t.label}
          </button>
        ))}
      </div>

      <div className="group">
        <label title="Brush radius in canvas pixels">
          Size{' '}
          <input
            type="range"
            data-testid="brush-size"
            min={BRUSH_RADIUS.min}
            max={BRUSH_RADIUS.max}
            value={brushRadius}
            onChange={(e) => setBrushRadius(Number(e.currentTarget.value))}
          />
          <output>{brushRadius}</output>
        </label>
        <label title="Half-size of the square around each trajectory's start that carries its motion (reference default 64)">
          Flow Unit{' '}
          <input
            type="range"
            data-testid="flow-unit"
            min={1}
            max={PROJECT_LIMITS.flowUnitMax}
            value={flowUnit}
            onChange={(e) => useProjectStore.getState().setSettings({ flowUnit: Number(e.currentTarget.value) }, { coalesce: 'flowUnit' })}
          />
          <output data-testid="flow-unit-value">{flowUnit}</output>
        </label>
      </div>

      <div className="group">
        <button type="button" data-testid="undo" disabled={!undoable} title="Undo (Ctrl/Cmd+Z)" onClick={() => useProjectStore.getState().undo()}>
          Undo
        </button>
        <button type="button" data-testid="redo" disabled={!redoable} title="Redo (Shift+Ctrl/Cmd+Z)" onClick={() => useProjectStore.getState().redo()}>
          Redo
        </button>
      </div>
    </div>
  );
}
