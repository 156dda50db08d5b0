"""DDIM (Song et al. 2021) as configured by the reference: betas linspace(0.00085, 0.012, 1000)
("linear"), steps_offset 1, clip_sample false, eta 0, set_alpha_to_one true, epsilon prediction.

Optional (flag `zero_terminal_snr`): rescale betas to zero terminal SNR (Lin et al. 2024, Alg. 1)
with "trailing" timesteps -- the fix the Motion-I2V paper names for its brightness drift.  The
model predicts epsilon, so the terminal alpha_bar (exactly 0 after rescaling) is clamped to
4.8973451890853435e-08 to keep x0 = (x - sqrt(1-a) eps) / sqrt(a) finite."""
from dataclasses import asdict, dataclass

import numpy as np

ZTSNR_MIN_ALPHA_BAR = 4.8973451890853435e-08


@dataclass(frozen=True)
class DDIMConfig:
    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "linear"
    steps_offset: int = 1
    clip_sample: bool = False
    set_alpha_to_one: bool = True
    prediction_type: str = "epsilon"
    eta: float = 0.0
    zero_terminal_snr: bool = False
    timestep_spacing: str = "leading"   # "trailing" when zero_terminal_snr

    def to_json(self):
        return asdict(self)


def rescale_zero_terminal_snr(betas):
    alphas_bar_sqrt = np.sqrt(np.cumprod(1.0 - betas))
    a0, aT = alphas_bar_sqrt[0], alphas_bar_sqrt[-1]
    alphas_bar_sqrt = (alphas_bar_sqrt - aT) * a0 / (a0 - aT)
    alphas_bar = alphas_bar_sqrt ** 2
    alphas = np.concatenate([alphas_bar[:1], alphas_bar[1:] / alphas_bar[:-1]])
    return 1.0 - alphas


class DDIMScheduler:
    """Numbers in float64 (numpy); `step` works on numpy arrays or torch tensors."""

    def __init__(self, cfg: DDIMConfig = DDIMConfig()):
        self.cfg = cfg
        if cfg.beta_schedule == "linear":
            betas = np.linspace(cfg.beta_start, cfg.beta_end, cfg.num_train_timesteps, dtype=np.float64)
        elif cfg.beta_schedule == "scaled_linear":
            betas = np.linspace(cfg.beta_start ** 0.5, cfg.beta_end ** 0.5, cfg.num_train_timesteps, dtype=np.float64) ** 2
        else:
            raise ValueError(cfg.beta_schedule)
        if cfg.zero_terminal_snr:
            betas = rescale_zero_terminal_snr(betas)
        self.betas = betas
        self.alphas_cumprod = np.cumprod(1.0 - betas)
        if cfg.zero_terminal_snr:
            self.alphas_cumprod = np.maximum(self.alphas_cumprod, ZTSNR_MIN_ALPHA_BAR)
        self.final_alpha_cumprod = 1.0 if cfg.set_alpha_to_one else self.alphas_cumprod[0]
        self.timesteps = None
        self.init_noise_sigma = 1.0

    def set_timesteps(self, n):
        T = self.cfg.num_train_timesteps
        self.num_inference_steps = n
        if self.cfg.zero_terminal_snr or self.cfg.timestep_spacing == "trailing":
            ts = np.round(np.arange(T, 0, -T / n)).astype(np.int64) - 1
        else:
            ratio = T // n
            ts = (np.arange(0, n) * ratio).round()[::-1].astype(np.int64) + self.cfg.steps_offset
        self.timesteps = ts
        return ts

    def prev_timestep(self, t):
        if self.cfg.zero_terminal_snr or self.cfg.timestep_spacing == "trailing":
            i = int(np.where(self.timesteps == t)[0][0])
            return int(self.timesteps[i + 1]) if i + 1 < len(self.timesteps) else -1
        return int(t) - self.cfg.num_train_timesteps // self.num_inference_steps

    def alpha_bar(self, t):
        return self.alphas_cumprod[t] if t >= 0 else self.final_alpha_cumprod

    def step(self, eps, t, x):
        """x_{t-1} = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps  (DDIM eq. 12 with eta = 0)."""
        if self.timesteps is None:
            raise RuntimeError("call set_timesteps before step")
        a_t = self.alpha_bar(int(t))
        a_prev = self.alpha_bar(self.prev_timestep(t))
        x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
        prev = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
        return prev, x0

    def add_noise(self, x0, noise, t):
        a = self.alphas_cumprod[int(t)]
        return a ** 0.5 * x0 + (1 - a) ** 0.5 * noise


def tables(cfg: DDIMConfig, steps):
    """The numbers the browser's DDIM (src/pipeline/scheduler.ts) must reproduce: betas, alpha_bar,
    and for every n in `steps` the timesteps, their predecessors and one step of fixed probe arrays."""
    s = DDIMScheduler(cfg)
    x = np.linspace(-2.0, 2.0, 7)
    eps = np.linspace(1.0, -1.0, 7)
    out = {"betas": s.betas.tolist(), "alphas_cumprod": s.alphas_cumprod.tolist(),
           "final_alpha_cumprod": float(s.final_alpha_cumprod), "runs": {}}
    for n in steps:
        ts = s.set_timesteps(n)
        out["runs"][str(n)] = {
            "timesteps": [int(t) for t in ts],
            "prev": [s.prev_timestep(int(t)) for t in ts],
            "step": [s.step(eps, int(t), x)[0].tolist() for t in ts],
        }
    return out


def main(argv=None):
    """python3 -m tools.export.scheduler [--zero-terminal-snr] [--steps 1,2,25]  -> JSON on stdout."""
    import argparse
    import json
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--zero-terminal-snr", action="store_true")
    p.add_argument("--steps", default="1,2,25")
    a = p.parse_args(argv)
    cfg = DDIMConfig(zero_terminal_snr=a.zero_terminal_snr,
                     timestep_spacing="trailing" if a.zero_terminal_snr else "leading")
    print(json.dumps(tables(cfg, [int(v) for v in a.steps.split(",")])))


if __name__ == "__main__":
    main()
