/**
 * The engine of each stage and the neural settings. Neural is offered only when a pack is
 * installed (the user picks which one if several); the bundled test pack says plainly that its
 * weights are random. A pack makes a fixed number of frames, so a job with a neural stage runs
 * at the pack's count (jobProject in state/job.ts) and this panel says so. Steps, guidance,
 * motion strength, ControlNet scale and negative prompt are project settings: saved, undoable,
 * validated.
 */
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { PackRecord } from '../../models/store';
import { PROJECT_LIMITS } from '../../motion/project';
import { DEFAULT_NEGATIVE_PROMPT, packFrames as packFramesOf, useJobStore } from '../../state/job';
import { usePacksStore } from '../../state/packs';
import { useProjectStore } from '../../state/project';
import type { ProjectSettings } from '../../motion/types';

export const TEST_PACK_NOTE = 'random weights: proves the pipeline, its motion is noise';

function packLabel(p: PackRecord): string {
  return p.source.kind === 'bundled' ? `${p.name} (${p.variant}), test pack: ${TEST_PACK_NOTE}` : `${p.name} (${p.variant})`;
}

type Role = 'motion' | 'render';

/**
 * The engine of each stage: motion (classical solver or the pack's stage 1) and render
 * (classical splatting or the pack's stage 2), and which installed pack the neural stages use.
 * Neural is offered only when a pack is installed; the test pack says its weights are random.
 */
export function EngineChoice({ disabled }: { disabled: boolean }) {
  const packs = usePacksStore(useShallow((s) => s.packs.filter((p) => p.state === 'installed')));
  const engines = useJobStore((s) => s.engines);
  const [error, setError] = useState<string | null>(null);
  const chosen = String(
    (engines.motion === 'neural' ? engines.motionConfig?.pack : engines.render === 'neural' ? engines.renderConfig?.pack : '') ?? '',
  );
  const chosenGone = chosen !== '' && usePacksStore.getState().loaded && !packs.some((p) => p.id === chosen);
  useEffect(() => {
    void usePacksStore.getState().refresh();
  }, []);
  const choose = (role: Role, id: string) => {
    setError(null);
    useJobStore
      .getState()
      .chooseNeural(id, role)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  const none = packs.length === 0;
  const pick = chosen && packs.some((p) => p.id === chosen) ? chosen : packs[0]?.id;
  const fromVideo = useProjectStore((st) => !!st.project.video);
  const row = (role: Role, label: string, classicalHint: string) => {
    const kind = role === 'motion' ? engines.motion : engines.render;
    const prefix = role === 'motion' ? 'engine' : 'render';
    return (
      <div className="engine-row" role="radiogroup" aria-label={`${label} engine`}>
        <span className="engine-role">{label}</span>
        <label>
          <input
            type="radio"
            name={`engine-${role}`}
            data-testid={`${prefix}-classical`}
            checked={kind === 'classical'}
            onChange={() => useJobStore.getState().chooseClassical(role)}
          />{' '}
          Classical <span className="hint-inline">{classicalHint}</span>
        </label>
        <label title={none ? 'Install a model pack to use the neural engine' : undefined}>
          <input
            type="radio"
            name={`engine-${role}`}
            data-testid={`${prefix}-neural`}
            checked={kind === 'neural'}
            disabled={none}
            onChange={() => pick && choose(role, pick)}
          />{' '}
          Neural
        </label>
      </div>
    );
  };
  return (
    <fieldset className="engine-choice" disabled={disabled}>
      <legend>Engine</legend>
      {fromVideo ? (
        <div className="engine-row" data-testid="engine-motion-tracked">
          <span className="engine-role">Motion</span>
          <span>Tracked in the source video</span>{' '}
          <span className="hint-inline">(video to video; remove the video to draw the motion)</span>
        </div>
      ) : (
        row('motion', 'Motion', 'instant, no download')
      )}
      {row('render', 'Render', 'softmax splatting')}
      <p className="hint-inline" data-testid="engine-neural-hint">
        {none
          ? 'Neural: install a model pack in Model packs below to use it.'
          : packs.length === 1
            ? `Neural uses ${packLabel(packs[0])}.`
            : 'Neural uses the diffusion model of the pack chosen below.'}
      </p>
      {packs.length > 1 && (engines.motion === 'neural' || engines.render === 'neural') && (
        <label className="neural-pack">
          Pack{' '}
          <select
            data-testid="neural-pack"
            value={chosen}
            onChange={(e) => {
              const id = e.currentTarget.value;
              if (engines.motion === 'neural') choose('motion', id);
              else choose('render', id);
            }}
          >
            {packs.map((p) => (
              <option key={p.id} value={p.id}>
                {packLabel(p)}
              </option>
            ))}
          </select>
        </label>
      )}
      {chosenGone && (
        <p className="job-error" data-testid="neural-pack-gone">
          The chosen model pack was removed. Install it again in Model packs, or choose Classical.
        </p>
      )}
      {error && (
        <p className="job-error" role="alert" data-testid="neural-choice-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

function NumberField(props: {
  label: string;
  testId: string;
  value: number;
  min: number;
  max: number;
  step: number;
  integer?: boolean;
  onChange: (v: number) => void;
  hint?: string;
}) {
  const { label, testId, value, min, max, step, integer, onChange, hint } = props;
  return (
    <label>
      {label}
      <input
        type="number"
        data-testid={testId}
        value={value}
        min={min}
        max={max}
        step={step}
        onChange={(e) => {
          const v = e.currentTarget.valueAsNumber;
          if (!Number.isFinite(v)) return;
          const c = Math.min(max, Math.max(min, integer ? Math.round(v) : v));
          onChange(c);
        }}
      />
      {hint && <span className="hint-inline">{hint}</span>}
    </label>
  );
}

/** Settings the neural stages read (shown when either stage is Neural); stride and ControlNet scale are stage 1's. */
export function NeuralSettings() {
  const s = useProjectStore(
    useShallow((st) => {
      const x = st.project.settings;
      return {
        steps: x.steps,
        guidance: x.guidance,
        motionStride: x.motionStride,
        controlScale: x.controlScale,
        negativePrompt: x.negativePrompt,
        frames: x.frames,
      };
    }),
  );
  const { packFrames, motionNeural, inspect } = useJobStore(
    useShallow((st) => ({ packFrames: packFramesOf(st.engines), motionNeural: st.engines.motion === 'neural', inspect: st.inspectMotion })),
  );
  const set = (patch: Partial<ProjectSettings>, coalesce: string) => useProjectStore.getState().setSettings(patch, { coalesce });
  return (
    <fieldset className="neural-settings" data-testid="neural-settings">
      <legend>Neural settings</legend>
      {typeof packFrames === 'number' && packFrames !== s.frames && (
        <p className="hint" data-testid="neural-frames-note">
          This pack makes {packFrames}-frame videos, so the video will have {packFrames} frames (your Frames setting, {s.frames}, is kept
          for Classical).
        </p>
      )}
      <NumberField
        label="Steps"
        testId="neural-steps"
        value={s.steps}
        min={1}
        max={PROJECT_LIMITS.stepsMax}
        step={1}
        integer
        onChange={(steps) => set({ steps }, 'steps')}
      />
      <NumberField
        label="Guidance"
        testId="neural-guidance"
        value={s.guidance}
        min={0}
        max={PROJECT_LIMITS.guidanceMax}
        step={0.5}
        onChange={(guidance) => set({ guidance }, 'guidance')}
      />
      {motionNeural && (
        <>
          <label>
            <input
              type="checkbox"
              data-testid="inspect-motion"
              checked={inspect}
              onChange={(e) => useJobStore.getState().setInspectMotion(e.currentTarget.checked)}
            />{' '}
            Check the motion before rendering
          </label>
          <NumberField
            label="Motion strength"
            testId="neural-stride"
            value={s.motionStride}
            min={1}
            max={PROJECT_LIMITS.motionStrideMax}
            step={1}
            integer
            hint="frame stride; the authors use 8"
            onChange={(motionStride) => set({ motionStride }, 'stride')}
          />
          <NumberField
            label="ControlNet scale"
            testId="neural-control-scale"
            value={s.controlScale}
            min={0}
            max={PROJECT_LIMITS.controlScaleMax}
            step={0.1}
            hint="how strongly the drawn paths steer"
            onChange={(controlScale) => set({ controlScale }, 'control-scale')}
          />
        </>
      )}
      <label className="prompt-field">
        Negative prompt <span className="hint-inline">(empty: the authors' default)</span>
        <textarea
          data-testid="neural-negative"
          rows={2}
          value={s.negativePrompt}
          placeholder={DEFAULT_NEGATIVE_PROMPT}
          onChange={(e) => set({ negativePrompt: e.currentTarget.value }, 'negative-prompt')}
        />
      </label>
    </fieldset>
  );
}
