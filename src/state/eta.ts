/**
 * Time left for a running job, from its progress fraction over time. A job's fraction is not
 * proportional to time (stages weigh what their spans say, and the first neural step also
 * compiles GPU programs), so the rate since the start misjudges a job that changes pace; the
 * rate over the last WINDOW_MS follows the current stage instead. The shown value then moves
 * like a countdown: it falls with the clock, follows a lower estimate quickly and a higher one
 * slowly, so one slow step does not make the time left jump up and down.
 */
export const WINDOW_MS = 15_000;
/** How much of the gap to a new estimate one update closes: quickly down, slowly up. */
const FOLLOW_DOWN = 0.5;
const FOLLOW_UP = 0.2;

export class EtaEstimator {
  private samples: { t: number; f: number }[] = [];
  private shown: { t: number; ms: number } | null = null;
  private stage: string | undefined;

  constructor(private startedAt: number) {
    this.samples.push({ t: startedAt, f: 0 });
  }

  /**
   * Records progress `fraction` at time `now` (ms) and returns the time left to show, or null (too
   * early to say). A new `stage` starts afresh: its pace says nothing of the last one's (a classical
   * motion stage of seconds before a neural render of minutes), so nothing is shown until it moves.
   */
  update(now: number, fraction: number, stage?: string): number | null {
    if (stage !== undefined && this.stage !== undefined && stage !== this.stage) {
      this.samples = [];
      this.shown = null;
      this.startedAt = now;
    }
    if (stage !== undefined) this.stage = stage;
    this.samples.push({ t: now, f: fraction });
    while (this.samples.length > 2 && this.samples[1].t <= now - WINDOW_MS) this.samples.shift();
    if (fraction < 0.05 || now - this.startedAt < 500 || fraction >= 1) return this.keep(now);
    const first = this.samples[0];
    const rate = (fraction - first.f) / Math.max(1, now - first.t);
    if (!(rate > 0)) return this.keep(now);
    const estimate = (1 - fraction) / rate;
    if (!this.shown) {
      this.shown = { t: now, ms: estimate };
      return estimate;
    }
    const countdown = Math.max(0, this.shown.ms - (now - this.shown.t));
    const ms = countdown + (estimate > countdown ? FOLLOW_UP : FOLLOW_DOWN) * (estimate - countdown);
    this.shown = { t: now, ms };
    return ms;
  }

  /** No new estimate: the last one keeps counting down. */
  private keep(now: number): number | null {
    if (!this.shown) return null;
    return Math.max(0, this.shown.ms - (now - this.shown.t));
  }
}
