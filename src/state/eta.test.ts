import { describe, expect, it } from 'vitest';
import { EtaEstimator } from './eta';

describe('EtaEstimator', () => {
  it('a job at a steady pace gets the true time left', () => {
    // 100 s job, progress linear in time, reported every second.
    const eta = new EtaEstimator(0);
    let last: number | null = null;
    for (let t = 1000; t < 100_000; t += 1000) last = eta.update(t, t / 100_000);
    expect(last).not.toBeNull();
    expect(Math.abs(last! - 1000)).toBeLessThan(50);
    expect(eta.update(60_000, 0.6)).not.toBeNull();
  });

  it('says nothing before 5 % and half a second', () => {
    const eta = new EtaEstimator(0);
    expect(eta.update(100, 0.2)).toBeNull();
    expect(eta.update(2000, 0.04)).toBeNull();
  });

  it('a job that slows down after a fast first stage: the time left follows the new pace without jumping up', () => {
    // 0..0.5 in 10 s, then 0.5..1 in 90 s (true time left at t is 100 s - t after 10 s).
    const eta = new EtaEstimator(0);
    const fractionAt = (t: number) => (t <= 10_000 ? (0.5 * t) / 10_000 : 0.5 + (0.5 * (t - 10_000)) / 90_000);
    const shown: number[] = [];
    for (let t = 1000; t < 100_000; t += 1000) shown.push(eta.update(t, fractionAt(t))!);
    // Never rises by more than a fifth of the gap per update: no jump of more than 25 s in one second.
    for (let i = 1; i < shown.length; i++) expect(shown[i] - shown[i - 1]).toBeLessThan(25_000);
    // Once the window holds only the slow stage (t >= 25 s), the estimate converges on the truth.
    const at = (t: number) => shown[t / 1000 - 1];
    expect(Math.abs(at(40_000) - 60_000)).toBeLessThan(6_000);
    expect(Math.abs(at(80_000) - 20_000)).toBeLessThan(2_000);
    // The since-start rate (the old estimate) would still say 34 s at t = 40 s instead of 60 s.
    const sinceStart = (40_000 / fractionAt(40_000)) * (1 - fractionAt(40_000));
    expect(sinceStart).toBeLessThan(40_000);
  });

  it('counts down between reports that add nothing (a long step)', () => {
    const eta = new EtaEstimator(0);
    for (let t = 1000; t <= 10_000; t += 1000) eta.update(t, t / 20_000);
    const a = eta.update(10_000, 0.5)!;
    // Same fraction reported 3 s later (rate over the window drops): the shown value must not rise above the countdown by much.
    const b = eta.update(13_000, 0.5)!;
    expect(b).toBeLessThan(a);
  });

  it('a new stage starts afresh: a fast classical motion says nothing of the neural render after it', () => {
    // motion 0..0.3 in 3 s; the render prepares for 30 s without progress, then 0.3..1 in 140 s.
    const eta = new EtaEstimator(0);
    for (let t = 500; t <= 3000; t += 500) eta.update(t, (0.3 * t) / 3000, 'motion');
    const duringPrepare: (number | null)[] = [];
    for (let t = 4000; t <= 33_000; t += 1000) duringPrepare.push(eta.update(t, 0.3, 'prepare'));
    // the motion stage's pace would have said about 7 s left
    expect(duringPrepare).toEqual(duringPrepare.map(() => null));
    let last: number | null = null;
    for (let t = 34_000; t <= 100_000; t += 2000) last = eta.update(t, 0.3 + (0.7 * (t - 33_000)) / 140_000, 'render');
    expect(Math.abs(last! - (173_000 - 100_000))).toBeLessThan(5_000);
    // without stages, the same reports show a countdown from the motion stage's pace during the prepare
    const plain = new EtaEstimator(0);
    for (let t = 500; t <= 3000; t += 500) plain.update(t, (0.3 * t) / 3000);
    expect(plain.update(4000, 0.3)).not.toBeNull();
  });
});
