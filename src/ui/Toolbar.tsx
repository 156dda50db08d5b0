/** The toolbar: files, canvas preset, tools, brush size, Flow Unit, paint motion and edge, undo/redo. */
import { useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { loadImageFile, openProject, presetOf, saveProject, setCanvasPreset, type CanvasPresetName } from '../state/actions';
import { BRUSH_RADIUS, useEditorStore, type ToolName } from '../state/editor';
import { canRedo, canUndo, useProjectStore } from '../state/project';
import { PROJECT_LIMITS } from '../motion/project';
import type { MotionMode } from '../motion/types';
import { tools } from './tools';
import { singleClick } from './singleClick';

const TOOLS: { name: ToolName; label: string; key: string; title: string }[] = [
  {
    name: 'trajectory',
    label: 'Trajectory',
    key: 'T',
    title: 'Click to add points (one click = anchor), drag to sketch, drag a point to move it. Enter finishes a trajectory.',
  },
  { name: 'brush', label: 'Brush', key: 'B', title: 'Paint the region that may move. If nothing is painted, everything may move.' },
  { name: 'erase', label: 'Erase', key: 'E', title: 'Erase brush paint.' },
  { name: 'crop', label: 'Move crop', key: 'C', title: 'Drag the photo to choose which part fills the canvas.' },
];

const MOTIONS: { mode: MotionMode; label: string; title: string }[] = [
  { mode: 'fluid', label: 'Fluid', title: 'New paint flows around the drags, stopping at edges (water, smoke, hair, clouds).' },
  {
    mode: 'rigid',
    label: 'Rigid',
    title: 'Each patch of new paint moves as a whole: shifted, turned and scaled to follow the drags that start in it.',
  },
  {
    mode: 'shape',
    label: 'Shape',
    title: 'Each patch of new paint bends as rigidly as it can to follow its drags; one-click anchors in it hold their spot.',
  },
];

const PRESETS: { name: CanvasPresetName; label: string }[] = [
  { name: 'landscape', label: 'Landscape 512×320' },
  { name: 'portrait', label: 'Portrait 320×512' },
  { name: 'square', label: 'Square 320×320' },
];

export function Toolbar() {
  const imageInput = useRef<HTMLInputElement>(null);
  const projectInput = useRef<HTMLInputElement>(null);
  const { tool, brushRadius, brushMotion, setTool, setBrushRadius, setBrushMotion } = useEditorStore(
    useShallow((s) => ({
      tool: s.tool,
      brushRadius: s.brushRadius,
      brushMotion: s.brushMotion,
      setTool: s.setTool,
      setBrushRadius: s.setBrushRadius,
      setBrushMotion: s.setBrushMotion,
    })),
  );
  const { undoable, redoable, canvas, flowUnit, brushFeather, hasImage } = useProjectStore(
    useShallow((s) => ({
      undoable: canUndo(s),
      redoable: canRedo(s),
      canvas: s.project.canvas,
      flowUnit: s.project.settings.flowUnit,
      brushFeather: s.project.settings.brushFeather,
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
        <button type="button" data-testid="save-project" disabled={!hasImage} onClick={singleClick(() => void saveProject())}>
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

      <div className="group" role="radiogroup" aria-label="Paint motion">
        <span title="How the next brush strokes move in the classical engine">Paint motion</span>
        {MOTIONS.map((m) => (
          <button
            key={m.mode}
            type="button"
            role="radio"
            aria-checked={brushMotion === m.mode}
            className={brushMotion === m.mode ? 'active' : ''}
            data-testid={`brush-motion-${m.mode}`}
            title={m.title}
            onClick={() => {
              setBrushMotion(m.mode);
              if (tool !== 'brush') switchTool('brush');
            }}
          >
            {m.label}
          </button>
        ))}
        <label title="Snap the painted edge to the photo's edges within this many pixels (0: exactly as painted)">
          Edge{' '}
          <input
            type="range"
            data-testid="brush-feather"
            min={0}
            max={PROJECT_LIMITS.brushFeatherMax}
            value={brushFeather}
            onChange={(e) =>
              useProjectStore.getState().setSettings({ brushFeather: Number(e.currentTarget.value) }, { coalesce: 'brushFeather' })
            }
          />
          <output data-testid="brush-feather-value">{brushFeather}</output>
        </label>
      </div>

      <div className="group">
        <button
          type="button"
          data-testid="undo"
          disabled={!undoable}
          title="Undo (Ctrl/Cmd+Z)"
          onClick={() => useProjectStore.getState().undo()}
        >
          Undo
        </button>
        <button
          type="button"
          data-testid="redo"
          disabled={!redoable}
          title="Redo (Shift+Ctrl/Cmd+Z)"
          onClick={() => useProjectStore.getState().redo()}
        >
          Redo
        </button>
      </div>
    </div>
  );
}
