/** Download rate and time left, measured over a sliding window so one slow chunk does not swing them. */
export interface RateMeter {
  /** Record the total bytes done at time `now` (ms). */
  sample(doneBytes: number, now: number): void;
  /** Bytes per second over the window; 0 until two samples span some time. */
  rate(): number;
  /** Seconds left for `remainingBytes` at the current rate; null while the rate is unknown. */
  eta(remainingBytes: number): number | null;
}

export function createRateMeter(windowMs = 5000): RateMeter {
  const samples: { t: number; b: number }[] = [];
  return {
    sample(b, t) {
      samples.push({ t, b });
      while (samples.length > 2 && t - samples[1].t >= windowMs) samples.shift();
    },
    rate() {
      if (samples.length < 2) return 0;
      const a = samples[0];
      const z = samples[samples.length - 1];
      const dt = (z.t - a.t) / 1000;
      return dt > 0 ? Math.max(0, (z.b - a.b) / dt) : 0;
    },
    eta(remaining) {
      const r = this.rate();
      return r > 0 ? remaining / r : null;
    },
  };
}
