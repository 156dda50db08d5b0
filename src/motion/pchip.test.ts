import { describe, expect, it } from 'vitest';
import { createPchip, linspace } from './pchip';

const scalar = (x: number[], y: number[]) =>
  createPchip(
    x,
    y.map((v) => [v]),
  );

describe('linspace', () => {
  it('matches numpy.linspace(0, 1, 16) element for element', () => {
    // python3 -c "import numpy as np; print(np.linspace(0,1,16).tolist())"
    expect(linspace(0, 1, 16)).toEqual([
      0.0, 0.06666666666666667, 0.13333333333333333, 0.2, 0.26666666666666666, 0.3333333333333333, 0.4, 0.4666666666666667,
      0.5333333333333333, 0.6, 0.6666666666666666, 0.7333333333333333, 0.8, 0.8666666666666667, 0.9333333333333333, 1.0,
    ]);
  });
  it('handles 0, 1 and 2 samples and puts stop exactly last', () => {
    expect(linspace(0, 1, 0)).toEqual([]);
    expect(linspace(3, 7, 1)).toEqual([3]);
    expect(linspace(3, 7, 2)).toEqual([3, 7]);
    expect(linspace(0, 0.3, 7).at(-1)).toBe(0.3);
  });
});

describe('createPchip (scipy PchipInterpolator)', () => {
  it('two points interpolate linearly (scipy: d0 = d1 = slope)', () => {
    const s = scalar([0, 1], [0, 10]);
    expect(Array.from(s.slopes)).toEqual([10, 10]);
    for (const x of [0, 0.25, 0.3, 0.5, 1]) expect(s.evaluate(x)[0]).toBeCloseTo(10 * x, 12);
  });

  it('3 points, hand-computed: y = 0, 1, 3 at x = 0, .5, 1', () => {
    // h = 0.5, m0 = (1-0)/.5 = 2, m1 = (3-1)/.5 = 4.
    // interior: w1 = 2h+h = 1.5, w2 = 1.5; 1/d1 = (1.5/2 + 1.5/4)/3 = 0.375 -> d1 = 8/3.
    // end 0: ((2h0+h1) m0 - h0 m1)/(h0+h1) = (1.5*2 - 0.5*4)/1 = 1 (same sign as m0, kept).
    // end 2: (1.5*4 - 0.5*2)/1 = 5.
    const s = scalar([0, 0.5, 1], [0, 1, 3]);
    expect(s.slopes[0]).toBeCloseTo(1, 14);
    expect(s.slopes[1]).toBeCloseTo(8 / 3, 14);
    expect(s.slopes[2]).toBeCloseTo(5, 14);
    // Segment 0 at s = .25: c3 = 0, c2 = 1, tt = (1 + 8/3 - 2*2)/.5 = -2/3,
    // c1 = (2 - 1)/.5 - tt = 8/3, c0 = tt/.5 = -4/3:
    // 0 + .25 + (8/3)(.0625) - (4/3)(.015625) = 12/48 + 8/48 - 1/48 = 19/48.
    expect(s.evaluate(0.25)[0]).toBeCloseTo(19 / 48, 14);
    // Segment 1 at s = .25: c3 = 1, c2 = 8/3, tt = (8/3 + 5 - 8)/.5 = -2/3, c1 = (4 - 8/3)/.5 + 2/3 = 10/3,
    // c0 = -4/3: 1 + 2/3 + (10/3)/16 - (4/3)/64 = (48 + 32 + 10 - 1)/48 = 89/48.
    expect(s.evaluate(0.75)[0]).toBeCloseTo(89 / 48, 14);
    // scipy 1.17.1 returns exactly these doubles (PchipInterpolator(...)([.25, .75]).tolist()).
    expect(s.evaluate(0.25)[0]).toBe(0.39583333333333337);
    expect(s.evaluate(0.75)[0]).toBe(1.8541666666666665);
  });

  it('a local extremum gets slope 0 and no overshoot: y = 0, 2, 0', () => {
    // m = 4, -4: signs differ -> d1 = 0; ends (1.5*4 + .5*4)/1 = 8, |8| <= 3*4 so kept.
    const s = scalar([0, 0.5, 1], [0, 2, 0]);
    expect(Array.from(s.slopes)).toEqual([8, 0, -8]);
    expect(Math.max(...Array.from({ length: 101 }, (_, i) => s.evaluate(i / 100)[0]))).toBe(2);
    expect(s.evaluate(0.5)[0]).toBe(2);
  });

  it('end slope rules: zeroed when its sign flips, capped at 3 m0 when the data turns', () => {
    // y = 0, 1, 5: m = 2, 8; d0 = (1.5*2 - .5*8)/1 = -1, sign differs from m0 -> 0.
    expect(scalar([0, 0.5, 1], [0, 1, 5]).slopes[0]).toBe(0);
    // y = 0, 1, -4: m = 2, -10; d0 = (1.5*2 + .5*10)/1 = 8 > 3*2 and signs of m differ -> 6.
    expect(scalar([0, 0.5, 1], [0, 1, -4]).slopes[0]).toBe(6);
  });

  it('4 points matches scipy 1.17.1 bit for bit', () => {
    // python3 -c "import numpy as np; from scipy.interpolate import PchipInterpolator as P;
    //   print(P(np.linspace(0,1,4), [10,40,35,100])(np.linspace(0,1,16)).tolist())"
    const s = scalar(linspace(0, 1, 4), [10, 40, 35, 100]);
    const want = [
      10.0, 19.2, 27.4, 34.0, 38.4, 40.0, 39.48, 38.24, 36.760000000000005, 35.519999999999996, 35.0, 38.559999999999995,
      48.280000000000015, 62.72000000000001, 80.44000000000001, 100.0,
    ];
    expect(linspace(0, 1, 16).map((x) => s.evaluate(x)[0])).toEqual(want);
    // Hand check of the slopes: h = 1/3, m = 90, -15, 195; interior sign changes -> 0, 0;
    // d0 = (3h*90 + h*15)/(2h) = 142.5; d3 = (3h*195 + h*15)/(2h) = 300.
    // (scipy's own d3 is 299.99999999999994 from rounding, hence toBeCloseTo.)
    [142.5, 0, 0, 300].forEach((d, k) => expect(s.slopes[k]).toBeCloseTo(d, 10));
  });

  it('monotone data stays monotone and inside the data range', () => {
    const y = [0, 0, 1, 1, 5, 5.5, 40];
    const s = scalar(linspace(0, 1, y.length), y);
    const values = Array.from({ length: 1001 }, (_, i) => s.evaluate(i / 1000)[0]);
    const decreases = values.filter((v, i) => i > 0 && v < values[i - 1]).length;
    expect(decreases).toBe(0);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(40);
    // Flat runs stay exactly flat (both neighbouring slopes 0).
    expect(s.evaluate(0.1)[0]).toBe(0);
  });

  it('is vector valued: each component interpolated independently', () => {
    const x = linspace(0, 1, 4);
    const v = createPchip(x, [
      [10, 0],
      [40, 1],
      [35, 3],
      [100, 3],
    ]);
    const a = scalar(x, [10, 40, 35, 100]);
    const b = scalar(x, [0, 1, 3, 3]);
    for (const t of [0, 0.1, 0.5, 0.77, 1]) expect(v.evaluate(t)).toEqual([a.evaluate(t)[0], b.evaluate(t)[0]]);
  });

  it('rejects bad knots', () => {
    expect(() => scalar([0], [1])).toThrow(/at least 2/);
    expect(() => scalar([0, 0], [1, 2])).toThrow(/increasing/);
    expect(() => scalar([0, 1], [1, NaN])).toThrow(/finite/);
  });
});
