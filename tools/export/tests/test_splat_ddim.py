import numpy as np
import torch

from tools.export.scheduler import DDIMConfig, DDIMScheduler, ZTSNR_MIN_ALPHA_BAR
from tools.export.softsplat import motion_tokens, resize_flow, splat, splat_naive


def test_splat_avg_matches_naive_loop():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float64)
    flow = torch.randn(2, 2, 5, 7, generator=g, dtype=torch.float64) * 3
    flow[0, 0, 0, 0] = float("inf")          # skipped
    flow[1, :, 2, 3] = torch.tensor([2.0, 1.0])  # integer landing
    flow[1, 0, 4, 6] = 40.0                   # out of bounds
    got = splat(x, flow, "avg")
    ref = splat_naive(x, flow)
    assert torch.allclose(got, ref, atol=1e-12)


def test_splat_zero_flow_is_identity_and_empty_is_zero():
    x = torch.randn(1, 4, 3, 3, dtype=torch.float64)
    assert torch.allclose(splat(x, torch.zeros(1, 2, 3, 3, dtype=torch.float64)), x / (1 + 1e-7))
    far = torch.full((1, 2, 3, 3), 100.0, dtype=torch.float64)
    assert splat(x, far).abs().max() == 0


def test_motion_tokens_layout():
    B, F, h, w, C, H, W = 2, 3, 4, 6, 5, 16, 24
    tok = torch.randn(B * F, h, w, C, dtype=torch.float64)
    flow = torch.randn(F, 2, H, W, dtype=torch.float64) * 4
    flow[0] = 0
    kv = motion_tokens(tok, flow, F)
    assert kv.shape == (B, 2 * F - 1, h, w, C)
    t = tok.reshape(B, F, h, w, C)
    assert torch.equal(kv[:, 0::2], t)
    fr = resize_flow(flow, h, w)
    # bilinear, align_corners=False, then scaled by h/H, w/W
    ref = torch.nn.functional.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
    assert torch.allclose(fr[:, 0], ref[:, 0] / (W / w)) and torch.allclose(fr[:, 1], ref[:, 1] / (H / h))
    for b in range(B):
        for i in range(1, F):
            want = splat_naive(t[b, 0].permute(2, 0, 1)[None], fr[i:i + 1])[0].permute(1, 2, 0)
            assert torch.allclose(kv[b, 2 * i - 1], want, atol=1e-10)


def test_ddim_timesteps_and_tables():
    s = DDIMScheduler(DDIMConfig())
    ts = s.set_timesteps(25)
    assert list(ts[:3]) == [961, 921, 881] and ts[-1] == 1 and len(ts) == 25
    betas = np.linspace(0.00085, 0.012, 1000)
    assert abs(s.alphas_cumprod[0] - (1 - 0.00085)) < 1e-15
    assert abs(s.alphas_cumprod[961] - np.prod(1 - betas[:962])) < 1e-12


def test_ddim_step_hand_computed():
    s = DDIMScheduler(DDIMConfig())
    s.set_timesteps(25)
    betas = np.linspace(0.00085, 0.012, 1000)
    a = lambda t: float(np.prod(1 - betas[: t + 1]))
    x, eps = 0.7, -0.3
    a_t, a_p = a(961), a(921)
    x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
    want = a_p ** 0.5 * x0 + (1 - a_p) ** 0.5 * eps
    got, got_x0 = s.step(np.array(eps), 961, np.array(x))
    assert abs(got - want) < 1e-12 and abs(got_x0 - x0) < 1e-12
    # last step goes to alpha_bar = 1 (set_alpha_to_one): result is x0
    got, x0 = s.step(np.array(eps), 1, np.array(x))
    assert abs(got - x0) < 1e-12
    # add_noise
    assert abs(s.add_noise(1.0, 2.0, 921) - (a_p ** 0.5 + 2 * (1 - a_p) ** 0.5)) < 1e-12


def test_ddim_step_requires_set_timesteps():
    s = DDIMScheduler()
    try:
        s.step(0.0, 1, 0.0)
    except RuntimeError:
        return
    raise AssertionError("step before set_timesteps must raise")


def test_zero_terminal_snr_trailing():
    s = DDIMScheduler(DDIMConfig(zero_terminal_snr=True))
    ts = s.set_timesteps(25)
    assert ts[0] == 999 and ts[1] == 959 and ts[-1] == 39
    assert s.alphas_cumprod[-1] == ZTSNR_MIN_ALPHA_BAR
    assert abs(s.alphas_cumprod[0] - (1 - 0.00085)) < 1e-9
    out, _ = s.step(np.array(0.1), 999, np.array(1.0))
    assert np.isfinite(out)


def test_motion_attention_equals_reference_order():
    """The exported order (project, warp frame 0's [k|v], attend with the projected PE) computes the
    reference's forward_augmented(motion_tokens(tok)) before to_out, for both frame-0 batch modes."""
    from tools.export.layers import VersatileAttention
    from tools.export.softsplat import motion_attention
    torch.manual_seed(0)
    B, F, h, w, C, H, W, heads = 2, 4, 4, 6, 16, 16, 24, 4
    attn = VersatileAttention(C, heads, C // heads, 32).double()
    attn.to_out[0].weight.data = torch.eye(C, dtype=torch.float64)
    attn.to_out[0].bias.data.zero_()
    tok = torch.randn(B * F, h, w, C, dtype=torch.float64)
    flow = torch.randn(F, 2, H, W, dtype=torch.float64) * 4
    flow[0] = 0
    for mode in ("same", "reference_quirk"):
        kv = motion_tokens(tok, flow, F, mode)                          # (B, 2F-1, h, w, C)
        t = kv.permute(0, 2, 3, 1, 4).reshape(B * h * w, 2 * F - 1, C)
        with torch.no_grad():
            ref = attn.forward_augmented(t, F).reshape(B, h, w, F, C).permute(0, 3, 1, 2, 4).reshape(B * F, h, w, C)
            qkv, kv0, pe = attn.project_augmented(tok, F)
            warped, out = motion_attention(qkv, kv0, pe, flow, F, heads, mode)
        assert warped.shape == (B, F - 1, h, w, 2 * C) and out.shape == (B * F, h, w, C)
        assert torch.allclose(out, ref, atol=1e-10), (mode, (out - ref).abs().max())
        # warped = projection of the reference's warped tokens
        wk = torch.matmul(kv[:, 1::2], attn.to_k.weight.t())
        assert torch.allclose(warped[..., :C], wk, atol=1e-10)
