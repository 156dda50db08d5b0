/**
 * Clip controls of the Generate panel: length (frames, frame 0 included), fps, seed (with
 * "new seed") and seamless loop. They are project settings: saved with it, validated by the
 * one validator (out-of-range input is clamped there), and undoable; typing in a field or
 * dragging coalesces into one undo step.
 */
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PROJECT_LIMITS } from '../../motion/project';
import { useProjectStore } from '../../state/project';
import { PLAYER_FPS_CHOICES } from '../player/fps';

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/**
 * A whole-number field that commits while the text is a valid value, and on blur or Enter
 * commits the nearest valid one (the validator clamps it), so typing "16" never passes
 * through a clamped "2", and clearing the field never writes a value.
 */
function IntField(props: {
  id: string;
  value: number;
  min: number;
  max: number;
  testId: string;
  className?: string;
  coalesce: string;
  onCommit: (v: number, coalesce: string) => void;
}) {
  const { id, value, min, max, testId, className, coalesce, onCommit } = props;
  const [text, setText] = useState(String(value));
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    if (!focused) setText(String(value));
  }, [value, focused]);
  const parsed = text.trim() === '' ? Number.NaN : Number(text);
  const valid = Number.isInteger(parsed) && parsed >= min && parsed <= max;
  // Blur shows the stored value again (the effect above), clamped if the text was out of range.
  const settle = () => {
    if (Number.isFinite(parsed) && parsed !== value) onCommit(Math.round(parsed), coalesce);
  };
  return (
    <input
      id={id}
      type="number"
      className={className}
      data-testid={testId}
      min={min}
      max={max}
      step={1}
      value={text}
      aria-invalid={!valid || undefined}
      onFocus={() => setFocused(true)}
      onBlur={() => {
        setFocused(false);
        settle();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Enter') e.currentTarget.blur();
      }}
      onChange={(e) => {
        const t = e.currentTarget.value;
        setText(t);
        const v = t.trim() === '' ? Number.NaN : Number(t);
        if (Number.isInteger(v) && v >= min && v <= max) onCommit(v, coalesce);
      }}
    />
  );
}

/** With a neural stage the pack's frame count wins; the Neural settings say so (`neural-frames-note`). */
export function ClipSettings({ disabled }: { disabled: boolean }) {
  const s = useProjectStore(
    useShallow((st) => ({
      frames: st.project.settings.frames,
      fps: st.project.settings.fps,
      seed: st.project.settings.seed,
      loop: st.project.settings.loop,
    })),
  );
  const set = useProjectStore.getState().setSettings;
  const commit = (key: 'frames' | 'seed') => (v: number, coalesce: string) => set({ [key]: v }, { coalesce });
  return (
    <fieldset className="clip-settings" disabled={disabled} data-testid="clip-settings">
      <legend>Clip</legend>
      <label
        htmlFor="clip-frames"
        title={`Frames in the video, the still included (${PROJECT_LIMITS.framesMin}..${PROJECT_LIMITS.framesMax}; a model pack makes its own fixed number)`}
      >
        Length
      </label>
      <span className="clip-field">
        <IntField
          id="clip-frames"
          value={s.frames}
          min={PROJECT_LIMITS.framesMin}
          max={PROJECT_LIMITS.framesMax}
          testId="clip-frames"
          coalesce="frames"
          onCommit={commit('frames')}
        />
        frames
      </span>
      <label>
        Speed
        <select data-testid="clip-fps" value={s.fps} onChange={(e) => set({ fps: Number(e.currentTarget.value) }, { coalesce: 'fps' })}>
          {[...new Set([...PLAYER_FPS_CHOICES, s.fps])]
            .sort((a, b) => a - b)
            .map((v) => (
              <option key={v} value={v}>
                {v} fps
              </option>
            ))}
        </select>
      </label>
      <span className="hint-inline" data-testid="clip-duration">
        {(s.frames / s.fps).toFixed(1)} s
      </span>
      <label htmlFor="clip-seed" title="The same seed, motion and settings give the same video (neural engine)">
        Seed
      </label>
      <IntField
        id="clip-seed"
        value={s.seed}
        min={0}
        max={2 ** 32 - 1}
        testId="clip-seed"
        className="seed"
        coalesce="seed"
        onCommit={commit('seed')}
      />
      <button type="button" data-testid="clip-new-seed" onClick={() => set({ seed: randomSeed() })} title="Pick a new random seed">
        New seed
      </button>
      <label className="clip-loop" title="The last frame returns to the first, so the video loops without a jump">
        <input type="checkbox" data-testid="clip-loop" checked={s.loop} onChange={(e) => set({ loop: e.currentTarget.checked })} /> Seamless
        loop
      </label>
    </fieldset>
  );
}
