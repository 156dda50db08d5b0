"""Regenerate the tiny test pack and golden tensors, byte-for-byte.

    /usr/bin/python3 -m tools.export.make_tiny [--out public/models/tiny]

Seeded random weights (numpy PCG64), tiny configs of the real architecture (configs.TINY),
fp32 + q8 + q4 + q4c8 ONNX, manifest.json, tokenizer files and goldens/*.bin (MI2G format).  Goldens are
computed with the PyTorch reference in float64 from the float32 weights and stored as float32.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import zlib

import numpy as np
import onnx
import torch

from tools.export import golden, manifest as mf
from tools.export.clip import CLIPTextModel, CLIPTokenizer, tiny_vocab
from tools.export.configs import TINY
from tools.export.onnx_export import StepsModule, dyn_axes, export, split_program
from tools.export.pack import motion_attention_plan_step
from tools.export.pipelines import Models, build_control, encode_flow, i2v, stage1, stage2, v2v_stage2
from tools.export.quantize import MIN_ELEMENTS, dequantize_blocks_q4, quantize_blocks_q4, quantize_per_channel_q8, variant
from tools.export.scheduler import DDIMScheduler
from tools.export.softsplat import resize_flow
from tools.export.unet import ControlNetModel, UNet3DConditionModel, run_steps
from tools.export.vae import AutoencoderKL, VAEDecoderExport, VAEEncoderExport

PROMPT = "a photo of the cat runs"
NEGATIVE = "blur, haze, cartoon"
STEPS = 2
TINY_VARIANTS = ["q8", "q4", "q4c8"]
# variants with their own goldens (<stem>.<precision>.bin): the float64 reference on their dequantised weights
OWN_GOLDENS = ["q4", "q4c8"]
GUIDANCE = 7.0


def seeded_init(module, seed):
    rng = np.random.Generator(np.random.PCG64(seed))
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("weight") and p.dim() >= 2:
                fan_in = int(np.prod(p.shape[1:]))
                if "token_embedding" in name or "position_embedding" in name:
                    fan_in = 1
                v = rng.standard_normal(p.shape) / np.sqrt(fan_in)
            elif name.endswith("weight"):                 # norm scales
                v = 1.0 + 0.1 * rng.standard_normal(p.shape)
            else:
                v = 0.05 * rng.standard_normal(p.shape)
            p.copy_(torch.from_numpy(v.astype(np.float32)))
    return module.eval()


def _seed(name):
    return zlib.crc32(name.encode())


def build_models(cfg=TINY):
    vocab, merges = tiny_vocab()
    from dataclasses import replace
    text = CLIPTextModel(replace(cfg.text, vocab_size=len(vocab)))
    m = {
        "text_encoder": text,
        "vae": AutoencoderKL(cfg.image_vae),
        "flow_vae": AutoencoderKL(cfg.flow_vae),
        "stage1_unet": UNet3DConditionModel(cfg.stage1_unet),
        "controlnet": ControlNetModel(cfg.stage1_unet, cfg.controlnet_cond_hidden),
        "stage2_unet": UNet3DConditionModel(cfg.stage2_unet),
    }
    for k, v in m.items():
        seeded_init(v, _seed(k))
    return m, vocab, merges


def rand(rng, *shape, scale=1.0):
    return torch.from_numpy((scale * rng.standard_normal(shape)).astype(np.float32))


def make(out_dir, cfg=TINY, verbose=True):
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    log = print if verbose else (lambda *a: None)
    os.makedirs(os.path.join(out_dir, "goldens"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "tokenizer"), exist_ok=True)
    models, vocab, merges = build_models(cfg)
    m64 = {k: _double(v) for k, v in models.items()}
    rng = np.random.Generator(np.random.PCG64(1234))
    W, H, Fr = cfg.width, cfg.height, cfg.frames
    h, w = H // cfg.latent_factor, W // cfg.latent_factor
    F1 = Fr - 1
    B = 2
    L = cfg.text.max_position_embeddings
    comps = {}
    gold = []

    # ---------------- tokenizer
    with open(os.path.join(out_dir, "tokenizer", "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    with open(os.path.join(out_dir, "tokenizer", "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2 (tiny)\n" + "\n".join(merges) + "\n")
    tok = CLIPTokenizer(vocab, merges, max_length=L)
    ids = torch.tensor([tok(NEGATIVE), tok(PROMPT)], dtype=torch.int32)
    golden.write(os.path.join(out_dir, "goldens", "tokenizer.bin"), [("input_ids", ids)],
                 {"texts": [NEGATIVE, PROMPT], "max_length": L})

    q4_jobs = []                     # (golden stem, float64 module, float64 inputs, output names) for q4 goldens

    def record(comp, module32, module64, inputs, in_names, out_names, fname, dynamic=True, extra_meta=None):
        path = os.path.join(out_dir, fname)
        args = [inputs[k] for k in in_names]
        ax = dyn_axes(dict(inputs), B, Fr if comp == "stage2_unet" else F1) if dynamic else {}
        with torch.no_grad():
            outs = module64(*[a.double() if a.is_floating_point() else a for a in args])
        if not isinstance(outs, (tuple, list)):
            outs = (outs,)
        named_out = dict(zip(out_names, outs))
        if dynamic:
            ax.update(dyn_axes(named_out, B, Fr if comp == "stage2_unet" else F1))
        model = export(module32, args, in_names, out_names, path, ax)
        onnx.checker.check_model(model)
        log("exported", fname)
        golden.write(os.path.join(out_dir, "goldens", comp + ".bin"),
                     [(k, inputs[k]) for k in in_names] + [(k, named_out[k]) for k in out_names], extra_meta)
        q4_jobs.append((comp, module64, [a.double() if a.is_floating_point() else a for a in args], out_names))
        return model

    # ---------------- text encoder
    ctx32 = None
    record("text_encoder", models["text_encoder"], m64["text_encoder"], {"input_ids": ids}, ["input_ids"],
           ["last_hidden_state"], "text_encoder.onnx")
    with torch.no_grad():
        ctx = m64["text_encoder"](ids)                                    # (2, L, D) [uncond, cond]

    # ---------------- VAEs
    image01 = torch.rand(1, 3, H, W, generator=torch.Generator().manual_seed(7))
    image01 = torch.from_numpy(np.random.Generator(np.random.PCG64(7)).random((1, 3, H, W)).astype(np.float32))
    eps_img = rand(rng, 1, 4, h, w)
    record("vae_encoder", VAEEncoderExport(models["vae"]), VAEEncoderExport(m64["vae"]),
           {"image": image01 * 2 - 1, "eps": eps_img}, ["image", "eps"], ["latent"], "vae_encoder.onnx")
    record("vae_decoder", VAEDecoderExport(models["vae"]), VAEDecoderExport(m64["vae"]),
           {"latent": rand(rng, 1, 4, h, w)}, ["latent"], ["image"], "vae_decoder.onnx")
    record("flow_vae_encoder", VAEEncoderExport(models["flow_vae"]), VAEEncoderExport(m64["flow_vae"]),
           {"image": torch.rand(1, 2, H, W, generator=torch.Generator().manual_seed(8)), "eps": rand(rng, 1, 4, h, w)},
           ["image", "eps"], ["latent"], "flow_vae_encoder.onnx")
    record("flow_vae_decoder", VAEDecoderExport(models["flow_vae"]), VAEDecoderExport(m64["flow_vae"]),
           {"latent": rand(rng, 1, 4, h, w)}, ["latent"], ["image"], "flow_vae_decoder.onnx")

    # ---------------- stage-1 UNet + ControlNet (one CFG call)
    stride = torch.tensor([list(cfg.strides[:F1])] * B, dtype=torch.float32)
    s1_in = {"sample": rand(rng, B, 8, F1, h, w), "timestep": torch.tensor([501.0, 501.0]),
             "encoder_hidden_states": ctx.float(), "stride": stride, "control": rand(rng, B, 5, F1, h, w),
             "control_scale": torch.tensor([1.0])}
    cn = models["controlnet"]
    cn_out_names = cn.output_names()
    cn_model = StepsModule(cn, cn.program(), cn.input_names(), cn_out_names)
    cn_model64 = StepsModule(m64["controlnet"], m64["controlnet"].program(), cn.input_names(), cn_out_names)
    record("controlnet", cn_model, cn_model64, s1_in, cn.input_names(), cn_out_names, "controlnet.onnx")
    with torch.no_grad():
        res = cn_model64(*[s1_in[k].double() for k in cn.input_names()])
    u1 = models["stage1_unet"]
    u1_in = dict(s1_in)
    for k, v in zip(cn_out_names, res):
        u1_in[k] = v.float()
    u1_names = u1.input_names(with_control=True)
    record("stage1_unet", StepsModule(u1, u1.program(True), u1_names, ["noise_pred"]),
           StepsModule(m64["stage1_unet"], m64["stage1_unet"].program(True), u1_names, ["noise_pred"]),
           u1_in, u1_names, ["noise_pred"], "stage1_unet.onnx")

    # ---------------- stage-2 UNet, segmented
    u2 = models["stage2_unet"]
    u2_64 = m64["stage2_unet"]
    flow = rand(rng, Fr, 2, H, W, scale=6.0)
    flow[0] = 0
    s2_in = {"sample": rand(rng, B, 4, Fr, h, w), "timestep": torch.tensor([501.0, 501.0]),
             "encoder_hidden_states": ctx.float()}
    steps32, steps64 = u2.program(), u2_64.program()
    plan32 = split_program(steps32, u2.input_names(), ["noise_pred"])
    plan64 = split_program(steps64, u2.input_names(), ["noise_pred"])
    env = {k: v.double() for k, v in s2_in.items()}
    with torch.no_grad():
        run_steps(steps64, env, flow.double())
    plan_json, seg_files, trace = [], [], [("flow", flow)] + [(k, s2_in[k]) for k in u2.input_names()]
    seen = set(k for k, _ in trace)
    resized = {}
    for p32, p64 in zip(plan32, plan64):
        if p32[0] == "onnx":
            _, g, ins, outs = p32
            idx = len(seg_files)
            fname = f"stage2_unet.seg{idx:02d}.onnx"
            args = [env[k].float() for k in ins]
            ax = dyn_axes({k: env[k] for k in ins + outs}, B, Fr)
            model = export(StepsModule(u2, g, ins, outs), args, ins, outs, os.path.join(out_dir, fname), ax)
            onnx.checker.check_model(model)
            q4_jobs.append(("stage2_unet", StepsModule(u2_64, p64[1], ins, outs), [env[k] for k in ins], outs))
            seg_files.append(fname)
            plan_json.append({"kind": "onnx", "segment": idx, "inputs": ins, "outputs": outs})
            for k in ins + outs:
                if k not in seen:
                    trace.append((k, env[k]))
                    seen.add(k)
        else:
            s = p32[1]
            _, fh, fw, _ = env[s.reads[0]].shape
            plan_json.append(motion_attention_plan_step(s, env[s.reads[0]].shape, Fr))
            # warped never crosses a segment boundary (the kernel reads it): stored for the browser's check
            trace.append((s.writes[0], env[s.writes[0]]))
            if (fh, fw) not in resized:
                resized[(fh, fw)] = resize_flow(flow.double(), fh, fw)
                trace.append((f"flow_{fh}x{fw}", resized[(fh, fw)]))
    log("exported stage-2 segments:", len(seg_files))
    golden.write(os.path.join(out_dir, "goldens", "stage2_unet.bin"), trace + [("noise_pred", env["noise_pred"])],
                 {"note": "one B=2 UNet call; every tensor that crosses a segment boundary, by name"})

    # ---------------- the same call with the authors' frame-0 batch mixing (plan frame0_batch "reference_quirk"; the
    # segments are the same, so only the outputs are stored: inputs are those of stage2_unet.bin)
    env_k = {k: v.double() for k, v in s2_in.items()}
    with torch.no_grad():
        run_steps(steps64, env_k, flow.double(), "reference_quirk")
    produced = [k for k, _ in trace if k != "flow" and k not in s2_in and not k.startswith("flow_")]
    golden.write(os.path.join(out_dir, "goldens", "stage2_unet.quirk.bin"),
                 [(k, env_k[k]) for k in produced] + [("noise_pred", env_k["noise_pred"])],
                 {"note": "stage2_unet.bin's call with frame0_batch reference_quirk: entry (b, i-1) warps frame 0 of "
                          "entry (b*(F-1) + i-1) mod B; every tensor the plan produces, by name",
                  # as the authors index it (motion_tokens: a repeat over B*(F-1) rows), for the browser's mapping test
                  "frame0_source": (torch.arange(B * F1) % B).reshape(B, F1).tolist()})

    # ---------------- q4 / q4c8 goldens: the same calls with every Linear weight replaced by its 4-bit dequantised
    # value (q4c8: and every Conv weight by its int8 one), what those graphs compute up to fp32 rounding, so the
    # browser checks MatMulNBits and DequantizeLinear tightly, not within the quantisation error.  Only outputs are
    # stored; inputs are those of <comp>.bin.
    for prec in OWN_GOLDENS:
        with _quantized_weights(models, m64, convs_int8=prec == "q4c8"):
            q_out = {}
            for stem, mod, args, names in q4_jobs:
                with torch.no_grad():
                    res = mod(*args)
                q_out.setdefault(stem, []).extend(zip(names, res if isinstance(res, (tuple, list)) else (res,)))
            # the whole quantised UNet call chained (each segment fed the previous quantised segments' outputs, the
            # splat and attention between them as in fp32): what the browser's plan computes end to end
            env_q = {k: v.double() for k, v in s2_in.items()}
            with torch.no_grad():
                run_steps(steps64, env_q, flow.double())
            q_out["stage2_unet"].append(("noise_pred_chained", env_q["noise_pred"]))
        note = {"q4": "outputs of the q4 variant: Linear weights dequantised from 4-bit blocks of 32",
                "q4c8": "outputs of the q4c8 variant: Linear weights dequantised from 4-bit blocks of 32, Conv "
                        "weights from int8 per output channel"}[prec]
        for stem, items in q_out.items():
            golden.write(os.path.join(out_dir, "goldens", f"{stem}.{prec}.bin"), items, {"note": note})

    # ---------------- pipelines (float64 reference)
    M = Models(m64["text_encoder"], m64["vae"], m64["flow_vae"], m64["stage1_unet"], m64["controlnet"], m64["vae"],
               m64["stage2_unet"])
    noise1 = rand(rng, 1, 4, F1, h, w)
    noise2 = rand(rng, 1, 4, Fr, h, w)
    eps1, eps2, eps_c = rand(rng, 1, 4, h, w), rand(rng, 1, 4, h, w), rand(rng, F1, 4, h, w)
    sparse = torch.full((F1, 2, H, W), 0.5)
    mask = torch.zeros(F1, 1, H, W)
    tr, tc = slice(H // 4, 3 * H // 4), slice(W // 4, 5 * W // 8)  # the dragged patch
    sparse[:, 0, tr, tc] = 0.5 + 0.5 * torch.arange(1, F1 + 1).view(F1, 1, 1) * 2.0 / W
    mask[:, :, tr, tc] = 1
    brush = torch.ones(1, 1, H, W)
    brush[:, :, H // 6:5 * H // 6, W // 8:7 * W // 8] = 0  # painted (moving) area; the border stays static
    with torch.no_grad():
        control = build_control(M.flow_vae, sparse.double(), mask.double(), eps_c.double())
        flows_c, lat1 = stage1(M, cfg, image01.double(), ctx, noise1.double(), STEPS, GUIDANCE, control, None, eps1.double())
        flows_n, lat1_n = stage1(M, cfg, image01.double(), ctx, noise1.double(), STEPS, GUIDANCE, None, None, eps1.double())
        video, lat2 = stage2(M, cfg, image01.double(), ctx, flows_c, noise2.double(), STEPS, GUIDANCE, brush.double(), eps2.double())
        video_k, lat2_k = stage2(M, cfg, image01.double(), ctx, flows_c, noise2.double(), STEPS, GUIDANCE, brush.double(),
                                 eps2.double(), frame0_batch="reference_quirk")
        fl_e2e, video_e2e, _ = i2v(M, cfg, image01.double(), ctx, noise1.double(), noise2.double(), STEPS, GUIDANCE,
                                   control, brush.double(), eps1.double(), eps2.double())
        v2v_flows = flow.double()
        video_v2v, _ = v2v_stage2(M, cfg, image01.double(), ctx, v2v_flows, noise2.double(), STEPS, GUIDANCE, eps2.double())
    common = [("image01", image01), ("input_ids", ids), ("noise_stage1", noise1), ("noise_stage2", noise2),
              ("eps_image_stage1", eps1), ("eps_image_stage2", eps2)]
    pmeta = {"steps": STEPS, "guidance": GUIDANCE, "timesteps": [int(t) for t in _ts(cfg, STEPS)],
             "prompt": PROMPT, "negative_prompt": NEGATIVE}
    G = lambda n: os.path.join(out_dir, "goldens", n)
    golden.write(G("pipeline_stage1_controlnet.bin"), common + [
        ("sparse_flow01", sparse), ("sparse_mask", mask), ("eps_control", eps_c), ("control", control),
        ("stage1_latents", lat1), ("flows", flows_c)], pmeta)
    golden.write(G("pipeline_stage1.bin"), common + [("stage1_latents", lat1_n), ("flows", flows_n)], pmeta)
    golden.write(G("pipeline_stage2.bin"), common + [("flows", flows_c), ("brush", brush), ("stage2_latents", lat2),
                                                     ("video", video)], pmeta)
    golden.write(G("pipeline_stage2.quirk.bin"), common + [("flows", flows_c), ("brush", brush), ("stage2_latents", lat2_k),
                                                           ("video", video_k)], dict(pmeta, frame0_batch="reference_quirk"))
    golden.write(G("pipeline_i2v.bin"), common + [("sparse_flow01", sparse), ("sparse_mask", mask), ("eps_control", eps_c),
                                                  ("brush", brush), ("flows", fl_e2e), ("video", video_e2e)], pmeta)
    golden.write(G("pipeline_v2v_stage2.bin"), common + [("flows", v2v_flows), ("video", video_v2v)], pmeta)
    log("goldens written")

    # ---------------- q8 variants + manifest
    comp_files = ["text_encoder.onnx", "vae_encoder.onnx", "vae_decoder.onnx", "flow_vae_encoder.onnx",
                  "flow_vae_decoder.onnx", "controlnet.onnx", "stage1_unet.onnx"] + seg_files
    # q4 and q4c8 (MatMulNBits, fp32 scales; int8 convs) ship so the browser can test 4-bit on adapters without
    # shader-f16; fp16 / q4f16 / q4c8f16 do not: their sessions cannot be created on such adapters (SwiftShader in CI).
    for fn in comp_files:
        src = onnx.load(os.path.join(out_dir, fn))
        for p in TINY_VARIANTS:
            q = variant(src, p)
            onnx.checker.check_model(q)
            with open(os.path.join(out_dir, fn.replace(".onnx", mf.SUFFIX[p])), "wb") as f:
                f.write(q.SerializeToString())
    man = mf.build_manifest(out_dir, cfg, ["fp32"] + TINY_VARIANTS, seg_files, plan_json,
                            tokenizer={"vocab": "tokenizer/vocab.json", "merges": "tokenizer/merges.txt", "max_length": L})
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1, sort_keys=False)
        f.write("\n")
    log("manifest written")
    return man


class _quantized_weights:
    """Swap every nn.Linear weight of the float64 copies for the q4 dequantisation of the float32 original and,
    with `convs_int8`, every Conv weight of at least MIN_ELEMENTS for its int8 per-output-channel one (q4c8)."""

    def __init__(self, models32, models64, convs_int8=False):
        kinds = (torch.nn.Linear, torch.nn.Conv2d, torch.nn.Conv3d) if convs_int8 else (torch.nn.Linear,)
        self.pairs = [(a, b) for k in models32 for a, b in zip(models32[k].modules(), models64[k].modules())
                      if isinstance(a, kinds) and (isinstance(a, torch.nn.Linear) or a.weight.numel() >= MIN_ELEMENTS)]

    def __enter__(self):
        self.saved = [b.weight.data.clone() for _, b in self.pairs]
        for a, b in self.pairs:
            w = a.weight.detach().numpy()                            # Linear (N, K) / Conv (O, I, ...) float32
            if isinstance(a, torch.nn.Linear):
                packed, scales = quantize_blocks_q4(w.T)
                r = dequantize_blocks_q4(packed, scales, w.shape[1], w.shape[0]).T
            else:
                q, scale = quantize_per_channel_q8(w, 0)
                r = q.astype(np.float32) * scale.reshape((-1,) + (1,) * (w.ndim - 1))   # as DequantizeLinear, in fp32
            b.weight.data = torch.from_numpy(np.ascontiguousarray(r)).double()

    def __exit__(self, *exc):
        for (_, b), w in zip(self.pairs, self.saved):
            b.weight.data = w


def _ts(cfg, n):
    s = DDIMScheduler(cfg.scheduler)
    return s.set_timesteps(n)


def _double(module):
    import copy
    return copy.deepcopy(module).double().eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="public/models/tiny")
    a = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix=".tiny-", dir=os.path.dirname(os.path.abspath(a.out)) or ".")
    try:
        make(tmp)
        if os.path.exists(a.out):
            shutil.rmtree(a.out)
        os.rename(tmp, a.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


if __name__ == "__main__":
    main()
