/**
 * DDIM (Song et al. 2021), equal to tools/export/scheduler.py (the Python reference the goldens
 * were made with): betas linspace(beta_start, beta_end, T) ("linear") or its square-root form
 * ("scaled_linear"), steps_offset, "leading" spacing, set_alpha_to_one, eta 0, epsilon
 * prediction, no clipping. Option `zero_terminal_snr`: betas rescaled to zero terminal SNR with
 * "trailing" timesteps (Lin et al. 2024, Alg. 1); the terminal alpha_bar (0 after rescaling) is
 * clamped to ZTSNR_MIN_ALPHA_BAR so x0 from an epsilon prediction stays finite.
 *
 * The tables are float64, computed with the same operations in the same order as numpy (linspace,
 * cumprod, arange with a float step, round half to even), so timesteps and alpha_bar agree with
 * the reference exactly (src/pipeline/scheduler.test.ts runs the Python reference to check).
 * The latent update itself runs on the GPU (src/gpu/kernels/ddimStep.ts); `step()` here is the
 * same formula on CPU arrays for tests and small tools.
 */
import type { SchedulerSpec } from '../models/manifest';

export const ZTSNR_MIN_ALPHA_BAR = 4.8973451890853435e-8;

export type DdimConfig = Pick<
  SchedulerSpec,
  | 'num_train_timesteps'
  | 'beta_start'
  | 'beta_end'
  | 'beta_schedule'
  | 'steps_offset'
  | 'set_alpha_to_one'
  | 'prediction_type'
  | 'eta'
  | 'clip_sample'
  | 'zero_terminal_snr'
  | 'timestep_spacing'
>;

/** The reference's configuration (Motion-I2V demo, tools/export DDIMConfig()). */
export const REFERENCE_DDIM: DdimConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'linear',
  steps_offset: 1,
  clip_sample: false,
  set_alpha_to_one: true,
  prediction_type: 'epsilon',
  eta: 0,
  zero_terminal_snr: false,
  timestep_spacing: 'leading',
};

/** Coefficients of one step x_t -> x_prev (all float64). */
export interface DdimStepCoefficients {
  timestep: number;
  prevTimestep: number;
  alphaBar: number;
  alphaBarPrev: number;
}

/** numpy.linspace(start, stop, num) with endpoint: i * step + start, the last value set to stop. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const step = (stop - start) / div;
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

function cumprodOneMinus(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) {
    p *= 1 - betas[i];
    out[i] = p;
  }
  return out;
}

/** numpy.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.arange(start, stop, step) for floats: length ceil((stop - start) / step), values start + i * (start + step - start). */
function arange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length: n }, (_, i) => (i === 0 ? start : start + i * delta));
}

/** Lin et al. 2024, Alg. 1: shift and scale sqrt(alpha_bar) so that its last value is 0. */
export function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const ab = cumprodOneMinus(betas);
  const sq = ab.map(Math.sqrt);
  const a0 = sq[0];
  const aT = sq[sq.length - 1];
  const bar = sq.map((s) => {
    const v = ((s - aT) * a0) / (a0 - aT);
    return v * v;
  });
  const out = new Float64Array(betas.length);
  for (let i = 0; i < bar.length; i++) out[i] = 1 - (i === 0 ? bar[0] : bar[i] / bar[i - 1]);
  return out;
}

export class DdimScheduler {
  readonly config: DdimConfig;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly finalAlphaCumprod: number;
  readonly initNoiseSigma = 1;
  private ts: number[] | null = null;

  constructor(config: DdimConfig = REFERENCE_DDIM) {
    if (config.prediction_type !== 'epsilon')
      throw new Error(`DDIM: prediction_type ${config.prediction_type} is not supported (epsilon only)`);
    if (config.eta !== 0) throw new Error('DDIM: only eta = 0 (deterministic) is supported');
    if (config.clip_sample) throw new Error('DDIM: clip_sample is not supported');
    this.config = config;
    const T = config.num_train_timesteps;
    let betas: Float64Array;
    if (config.beta_schedule === 'linear') betas = linspace(config.beta_start, config.beta_end, T);
    else if (config.beta_schedule === 'scaled_linear')
      betas = linspace(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), T).map((b) => b * b);
    else throw new Error(`DDIM: unknown beta_schedule ${String(config.beta_schedule)}`);
    if (config.zero_terminal_snr) betas = rescaleZeroTerminalSnr(betas);
    this.betas = betas;
    let ac = cumprodOneMinus(betas);
    if (config.zero_terminal_snr) ac = ac.map((a) => Math.max(a, ZTSNR_MIN_ALPHA_BAR));
    this.alphasCumprod = ac;
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : ac[0];
  }

  private get trailing(): boolean {
    return this.config.zero_terminal_snr || this.config.timestep_spacing === 'trailing';
  }

  /** Sets the inference timesteps (descending) and returns them. */
  setTimesteps(n: number): number[] {
    if (!Number.isInteger(n) || n < 1 || n > this.config.num_train_timesteps) {
      throw new RangeError(`DDIM: steps must be an integer in 1..${this.config.num_train_timesteps}, got ${n}`);
    }
    const T = this.config.num_train_timesteps;
    let ts: number[];
    if (this.trailing) {
      ts = arange(T, 0, -T / n).map((v) => roundHalfEven(v) - 1);
    } else {
      const ratio = Math.floor(T / n);
      ts = Array.from({ length: n }, (_, i) => i * ratio)
        .reverse()
        .map((v) => v + this.config.steps_offset);
    }
    // leading spacing with steps_offset reaches T for n = T: no alpha_bar there (the reference fails too)
    if (ts.some((t) => t >= T)) throw new RangeError(`DDIM: ${n} steps reach timestep ${Math.max(...ts)}, past the ${T} training steps`);
    this.ts = ts;
    return [...ts];
  }

  /** The timesteps of the last setTimesteps call. */
  get timesteps(): readonly number[] {
    return this.requireTimesteps();
  }

  private requireTimesteps(): number[] {
    if (!this.ts) throw new Error('DDIM: call setTimesteps before step');
    return this.ts;
  }

  prevTimestep(t: number): number {
    const ts = this.requireTimesteps();
    if (this.trailing) {
      const i = ts.indexOf(t);
      if (i < 0) throw new RangeError(`DDIM: timestep ${t} is not one of ${ts.join(', ')}`);
      return i + 1 < ts.length ? ts[i + 1] : -1;
    }
    return t - Math.floor(this.config.num_train_timesteps / ts.length);
  }

  alphaBar(t: number): number {
    return t >= 0 ? this.alphasCumprod[t] : this.finalAlphaCumprod;
  }

  /** alpha_bar at t and at the previous timestep; throws before setTimesteps. */
  stepCoefficients(t: number): DdimStepCoefficients {
    const prev = this.prevTimestep(t);
    return { timestep: t, prevTimestep: prev, alphaBar: this.alphaBar(t), alphaBarPrev: this.alphaBar(prev) };
  }

  /**
   * x_prev = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps with x0 = (x - sqrt(1 - a_t) * eps) / sqrt(a_t)
   * (DDIM eq. 12, eta = 0), on CPU arrays (float64 arithmetic).
   */
  step(eps: ArrayLike<number>, t: number, x: ArrayLike<number>): { prevSample: Float64Array; predOriginal: Float64Array } {
    const { alphaBar: a, alphaBarPrev: ap } = this.stepCoefficients(t);
    const prevSample = new Float64Array(x.length);
    const predOriginal = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const x0 = (x[i] - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a);
      predOriginal[i] = x0;
      prevSample[i] = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * eps[i];
    }
    return { prevSample, predOriginal };
  }

  /** sqrt(a_t) * x0 + sqrt(1 - a_t) * noise. */
  addNoise(x0: ArrayLike<number>, noise: ArrayLike<number>, t: number): Float64Array {
    const a = this.alphasCumprod[t];
    return Float64Array.from(x0, (v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * noise[i]);
  }
}

/** The scheduler a pack asks for (its manifest's `scheduler`), optionally with zero-terminal SNR. */
export function schedulerFromManifest(spec: SchedulerSpec, options: { zeroTerminalSnr?: boolean } = {}): DdimScheduler {
  const z = options.zeroTerminalSnr ?? spec.zero_terminal_snr;
  return new DdimScheduler({ ...spec, zero_terminal_snr: z, timestep_spacing: z ? 'trailing' : spec.timestep_spacing });
}
