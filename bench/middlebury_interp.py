"""Middlebury frame interpolation score of an optical-flow method (bench only, not CI).

For each sequence of ../shared/media/middlebury: estimate the flows frame10 -> frame11 and
frame11 -> frame10, splat both frames halfway (each by half its flow) and blend, then report
PSNR (RGB, peak 255, all pixels) against the true middle frame frame10i11. Two splats:
  avg      bilinear forward splatting, both frames' contributions summed and normalised by
           their summed weights; pixels no source reaches get the mean of the two frames;
  softmax  the same with each source weighted by exp(-20 |I0 - I1(x + f)|) (mean abs RGB in
           [0, 1], I1 sampled bilinearly): Niklaus & Liu 2020, their metric and scale.
Flows come from OpenCV's DIS (medium preset) or from .flo files (--flows DIR holding
<sequence>-forward.flo and <sequence>-backward.flo, as bench/flow.bench.ts writes them), so
both methods go through exactly the same splatting and scoring.

Run: apt-get install -y python3-opencv
     /usr/bin/python3 bench/middlebury_interp.py                 (OpenCV DIS medium)
     /usr/bin/python3 bench/middlebury_interp.py --flows DIR     (flows from files)
Prints a JSON object {method: ..., sequences: {name: {avg, softmax}}, mean: {avg, softmax}}.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

MEDIA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'media', 'middlebury')
SEQUENCES = ['Beanbags', 'DogDance', 'RubberWhale', 'Urban2']


def read_flo(path):
    with open(path, 'rb') as f:
        tag = np.frombuffer(f.read(4), np.float32)[0]
        if abs(tag - 202021.25) > 1e-3:
            raise ValueError(f'{path}: not a .flo file')
        w, h = np.frombuffer(f.read(8), np.int32)
        return np.frombuffer(f.read(), np.float32).reshape(h, w, 2).copy()


def backwarp(img, flow):
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def splat(img, flow, weight):
    """Bilinear forward splat of img (H, W, 3 float) by flow, each source weighted: (sum w c, sum w)."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    tx = gx + flow[..., 0]
    ty = gy + flow[..., 1]
    x0 = np.floor(tx).astype(np.int64)
    y0 = np.floor(ty).astype(np.int64)
    fx = tx - x0
    fy = ty - y0
    acc = np.zeros((h * w, 3))
    wsum = np.zeros(h * w)
    for dx, dy, b in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi = x0 + dx
        yi = y0 + dy
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h) & np.isfinite(b)
        idx = (yi * w + xi)[ok]
        wt = (b * weight)[ok]
        np.add.at(wsum, idx, wt)
        for c in range(3):
            np.add.at(acc[:, c], idx, wt * img[..., c][ok])
    return acc.reshape(h, w, 3), wsum.reshape(h, w)


def interpolate(f0, f1, fwd, bwd, mode):
    i0 = f0.astype(np.float64)
    i1 = f1.astype(np.float64)
    if mode == 'softmax':
        m0 = np.abs(i0 - backwarp(f1.astype(np.float32), fwd)).mean(2) / 255.0
        m1 = np.abs(i1 - backwarp(f0.astype(np.float32), bwd)).mean(2) / 255.0
        w0 = np.exp(np.clip(-20.0 * m0, -20, 20))
        w1 = np.exp(np.clip(-20.0 * m1, -20, 20))
    else:
        w0 = np.ones(fwd.shape[:2])
        w1 = np.ones(bwd.shape[:2])
    a0, s0 = splat(i0, 0.5 * fwd, w0)
    a1, s1 = splat(i1, 0.5 * bwd, w1)
    s = s0 + s1
    out = 0.5 * (i0 + i1)
    hit = s > 1e-9
    out[hit] = (a0 + a1)[hit] / s[hit][:, None]
    return out


def psnr(a, b):
    mse = np.mean((np.clip(a, 0, 255) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--flows', help='folder of <sequence>-forward.flo / -backward.flo (default: OpenCV DIS medium)')
    ap.add_argument('--media', default=MEDIA)
    args = ap.parse_args()
    result = {'method': f'flows from {args.flows}' if args.flows else f'OpenCV {cv2.__version__} DIS medium preset', 'sequences': {}}
    for name in SEQUENCES:
        d = os.path.join(args.media, name)
        f0 = cv2.imread(os.path.join(d, 'frame10.png'))
        f1 = cv2.imread(os.path.join(d, 'frame11.png'))
        gt = cv2.imread(os.path.join(d, 'frame10i11.png'))
        if args.flows:
            fwd = read_flo(os.path.join(args.flows, f'{name}-forward.flo'))
            bwd = read_flo(os.path.join(args.flows, f'{name}-backward.flo'))
        else:
            dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
            g0 = cv2.cvtColor(f0, cv2.COLOR_BGR2GRAY)
            g1 = cv2.cvtColor(f1, cv2.COLOR_BGR2GRAY)
            fwd = dis.calc(g0, g1, None)
            bwd = dis.calc(g1, g0, None)
        result['sequences'][name] = {m: round(psnr(interpolate(f0, f1, fwd, bwd, m), gt), 3) for m in ('avg', 'softmax')}
    result['mean'] = {m: round(float(np.mean([v[m] for v in result['sequences'].values()])), 3) for m in ('avg', 'softmax')}
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
