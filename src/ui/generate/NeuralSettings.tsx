/**
 * The neural motion choice and its settings. Neural is offered only when a pack is installed
 * (the user picks which one if several); the bundled test pack says plainly that its weights
 * are random. A pack makes a fixed number of frames, so a neural job runs at the pack's count
 * (jobProject in state/job.ts) and this panel says so. Seed, steps, guidance, motion strength,
 * ControlNet scale and negative prompt are project settings: saved, undoable, validated.
 */
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { PackRecord } from '../../models/store';
import { DEFAULT_NEGATIVE_PROMPT, useJobStore } from '../../state/job';
import { usePacksStore } from '../../state/packs';
import { useProjectStore } from '../../state/project';
import type { ProjectSettings } from '../../motion/types';

export const TEST_PACK_NOTE = 'random weights: proves the pipeline, its motion is noise';

function packLabel(p: PackRecord): string {
  return p.source.kind === 'bundled' ? `${p.name} (${p.variant}), test pack: ${TEST_PACK_NOTE}` : `${p.name} (${p.variant})`;
}

/** The radio button and pack picker inside the engine fieldset. */
export function NeuralChoice() {
  const packs = usePacksStore(useShallow((s) => s.packs.filter((p) => p.state === 'installed')));
  const engines = useJobStore((s) => s.engines);
  const [error, setError] = useState<string | null>(null);
  const chosen = engines.motion === 'neural' ? String(engines.motionConfig?.pack ?? '') : '';
  const chosenGone = chosen !== '' && usePacksStore.getState().loaded && !packs.some((p) => p.id === chosen);
  useEffect(() => {
    void usePacksStore.getState().refresh();
  }, []);
  const choose = (id: string) => {
    setError(null);
    useJobStore.getState().chooseNeural(id).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  const none = packs.length === 0;
  return (
    <>
      <label title={none ? 'Install a model pack to use the neural engine' : undefined}>
        <input type="radio" name="engine" data-testid="engine-neural" checked={engines.motion === 'neural'} disabled={none} onChange={() => choose(packs[0].id)} /> Neural{' '}
        <span className="hint-inline" data-testid="engine-neural-hint">
          {none ? 'install a model pack in Model packs below to use it' : packs.length === 1 ? packLabel(packs[0]) : 'diffusion model from a pack'}
        </span>
      </label>
      {packs.length > 1 && engines.motion === 'neural' && (
        <label className="neural-pack">
          Pack{' '}
          <select data-testid="neural-pack" value={chosen} onChange={(e) => choose(e.currentTarget.value)}>
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
    </>
  );
}

function NumberField(props: { label: string; testId: string; value: number; min: number; max: number; step: number; integer?: boolean; onChange: (v: number) => void; hint?: string }) {
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

/** Settings the neural motion stage reads (shown when Neural is chosen). */
export function NeuralSettings() {
  const s = useProjectStore(
    useShallow((st) => {
      const x = st.project.settings;
      return { seed: x.seed, steps: x.steps, guidance: x.guidance, motionStride: x.motionStride, controlScale: x.controlScale, negativePrompt: x.negativePrompt, frames: x.frames };
    }),
  );
  const packFrames = useJobStore((st) => (st.engines.motion === 'neural' ? st.engines.motionConfig?.frames : undefined));
  const set = (patch: Partial<ProjectSettings>, coalesce: string) => useProjectStore.getState().setSettings(patch, { coalesce });
  return (
    <fieldset className="neural-settings" data-testid="neural-settings">
      <legend>Neural motion</legend>
      {typeof packFrames === 'number' && packFrames !== s.frames && (
        <p className="hint" data-testid="neural-frames-note">
          This pack makes {packFrames}-frame videos, so the video will have {packFrames} frames (your Frames setting, {s.frames}, is kept for Classical).
        </p>
      )}
      <div className="neural-row">
        <NumberField label="Seed" testId="neural-seed" value={s.seed} min={0} max={2 ** 32 - 1} step={1} integer onChange={(seed) => set({ seed }, 'seed')} />
        <button type="button" data-testid="neural-new-seed" onClick={() => set({ seed: Math.floor(Math.random() * 2 ** 32) }, 'new-seed')}>
          New seed
        </button>
      </div>
      <NumberField label="Steps" testId="neural-steps" value={s.steps} min={1} max={1000} step={1} integer onChange={(steps) => set({ steps }, 'steps')} />
      <NumberField label="Guidance" testId="neural-guidance" value={s.guidance} min={0} max={100} step={0.5} onChange={(guidance) => set({ guidance }, 'guidance')} />
      <NumberField label="Motion strength" testId="neural-stride" value={s.motionStride} min={1} max={64} step={1} integer hint="frame stride; the authors use 8" onChange={(motionStride) => set({ motionStride }, 'stride')} />
      <NumberField label="ControlNet scale" testId="neural-control-scale" value={s.controlScale} min={0} max={4} step={0.1} hint="how strongly the drawn paths steer" onChange={(controlScale) => set({ controlScale }, 'control-scale')} />
      <label className="prompt-field">
        Negative prompt <span className="hint-inline">(empty: the authors' default)</span>
        <textarea data-testid="neural-negative" rows={2} value={s.negativePrompt} placeholder={DEFAULT_NEGATIVE_PROMPT} onChange={(e) => set({ negativePrompt: e.currentTarget.value }, 'negative-prompt')} />
      </label>
    </fieldset>
  );
}
