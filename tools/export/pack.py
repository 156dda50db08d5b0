"""Write a model pack (ONNX components, stage-2 segments + plan, precision variants, tokenizer, manifest) from
loaded reference modules.  Used by the CLI (`python3 -m tools.export`); the tiny pack (make_tiny.py) goes
through the same export calls with the same example shapes, and a test checks that both give identical bytes.
"""
import json
import os
import resource
import shutil
import time

import numpy as np
import onnx
import torch

from tools.export import manifest as mf
from tools.export.onnx_export import StepsModule, dyn_axes, export, save, split_program
from tools.export.quantize import variant
from tools.export.unet import run_steps
from tools.export.vae import VAEDecoderExport, VAEEncoderExport

PRECISIONS = ("fp32", "q8", "fp16", "q4", "q4f16")


def _usage(t0):
    """Seconds since t0 and the process's peak resident memory so far (for the CLI's log)."""
    return f"{time.time() - t0:.1f} s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"


def export_pack(models, cfg, out_dir, precisions=("fp32", "q8"), tokenizer_files=None, log=print):
    """models: dict text_encoder, vae, flow_vae, stage1_unet, controlnet, stage2_unet (float32, eval).
    tokenizer_files: (vocab.json path, merges.txt path) copied into tokenizer/.  Returns the manifest."""
    torch.use_deterministic_algorithms(True)
    rng = np.random.Generator(np.random.PCG64(1234))

    def rand(*shape, scale=1.0):
        return torch.from_numpy((scale * rng.standard_normal(shape)).astype(np.float32))

    W, H, Fr = cfg.width, cfg.height, cfg.frames
    h, w = H // cfg.latent_factor, W // cfg.latent_factor
    F1, B, L = Fr - 1, 2, cfg.text.max_position_embeddings
    os.makedirs(os.path.join(out_dir, "tokenizer"), exist_ok=True)
    vocab, merges = tokenizer_files
    shutil.copyfile(vocab, os.path.join(out_dir, "tokenizer", "vocab.json"))
    shutil.copyfile(merges, os.path.join(out_dir, "tokenizer", "merges.txt"))

    def one(module, inputs, in_names, out_names, fname, frames):
        t0 = time.time()
        ax = dyn_axes(inputs, B, frames)
        with torch.no_grad():
            outs = module(*[inputs[k] for k in in_names])
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        ax.update(dyn_axes(dict(zip(out_names, outs)), B, frames))
        model = export(module, [inputs[k] for k in in_names], in_names, out_names, os.path.join(out_dir, fname), ax)
        onnx.checker.check_model(os.path.join(out_dir, fname))
        log("exported", fname, f"({_usage(t0)})")
        return model

    def release(name):
        if hasattr(models, "release"):        # a lazy loader: free the component once its graphs are written
            models.release(name)

    te = models["text_encoder"]
    vocab_size = te.text_model.embeddings.token_embedding.num_embeddings
    ids = torch.arange(B * L, dtype=torch.int32).reshape(B, L) % vocab_size
    one(te, {"input_ids": ids}, ["input_ids"], ["last_hidden_state"], "text_encoder.onnx", F1)
    with torch.no_grad():
        ctx = te(ids)
    del te
    release("text_encoder")
    image, image_eps, latent = rand(1, 3, H, W), rand(1, 4, h, w), rand(1, 4, h, w)
    vae = models["vae"]
    one(VAEEncoderExport(vae), {"image": image, "eps": image_eps}, ["image", "eps"], ["latent"], "vae_encoder.onnx", F1)
    one(VAEDecoderExport(vae), {"latent": latent}, ["latent"], ["image"], "vae_decoder.onnx", F1)
    del vae
    release("vae")
    fvae = models["flow_vae"]
    one(VAEEncoderExport(fvae), {"image": rand(1, 2, H, W), "eps": rand(1, 4, h, w)}, ["image", "eps"],
        ["latent"], "flow_vae_encoder.onnx", F1)
    one(VAEDecoderExport(fvae), {"latent": rand(1, 4, h, w)}, ["latent"], ["image"], "flow_vae_decoder.onnx", F1)
    del fvae
    release("flow_vae")

    stride = torch.tensor([list(cfg.strides[:F1])] * B, dtype=torch.float32)
    s1_in = {"sample": rand(B, 8, F1, h, w), "timestep": torch.tensor([501.0, 501.0]), "encoder_hidden_states": ctx,
             "stride": stride, "control": rand(B, 5, F1, h, w), "control_scale": torch.tensor([1.0])}
    cn = models["controlnet"]
    cn_in, cn_out = cn.input_names(), cn.output_names()
    cn_model = StepsModule(cn, cn.program(), cn_in, cn_out)
    one(cn_model, s1_in, cn_in, cn_out, "controlnet.onnx", F1)
    with torch.no_grad():
        res = cn_model(*[s1_in[k] for k in cn_in])
    del cn, cn_model
    release("controlnet")
    u1 = models["stage1_unet"]
    u1_in = dict(s1_in, **dict(zip(cn_out, res)))
    u1_names = u1.input_names(with_control=True)
    one(StepsModule(u1, u1.program(True), u1_names, ["noise_pred"]), u1_in, u1_names, ["noise_pred"],
        "stage1_unet.onnx", F1)
    del u1, u1_in, res
    release("stage1_unet")

    seg_files, plan_json = export_stage2(models["stage2_unet"], cfg, {"sample": rand(B, 4, Fr, h, w),
                                         "timestep": torch.tensor([501.0, 501.0]), "encoder_hidden_states": ctx},
                                         rand(Fr, 2, H, W, scale=6.0), out_dir, log)
    release("stage2_unet")
    # Stage 1's own text encoder / image-VAE encoder, only when they differ from stage 2's (the CLI decides).
    extra = [c for c in getattr(models, "stage1_extras", ()) if c in mf.OPTIONAL_COMPONENTS]
    if "stage1_text_encoder" in extra:
        one(models["stage1_text_encoder"], {"input_ids": ids}, ["input_ids"], ["last_hidden_state"],
            "stage1_text_encoder.onnx", F1)
        release("stage1_text_encoder")
    if "stage1_vae_encoder" in extra:
        one(VAEEncoderExport(models["stage1_vae_encoder"]), {"image": image, "eps": image_eps}, ["image", "eps"],
            ["latent"], "stage1_vae_encoder.onnx", F1)
        release("stage1_vae_encoder")

    comp_files = [c + ".onnx" for c in mf.COMPONENTS + extra] + seg_files
    write_variants(out_dir, comp_files, [p for p in precisions if p != "fp32"], log)
    man = mf.build_manifest(out_dir, cfg, list(precisions), seg_files, plan_json, extra=extra,
                            tokenizer={"vocab": "tokenizer/vocab.json", "merges": "tokenizer/merges.txt", "max_length": L})
    if "fp32" not in precisions:                  # fp32 files were only the source of the variants
        for fn in comp_files:
            for f in (fn, fn + ".data"):
                if os.path.exists(os.path.join(out_dir, f)):
                    os.remove(os.path.join(out_dir, f))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1, sort_keys=False)
        f.write("\n")
    return man


def export_stage2(u2, cfg, inputs, flow, out_dir, log=print):
    """Segments stage2_unet.segNN.onnx + the plan (README: stage-2 cut).  Example tensors at the cuts come from
    running the float32 program on `inputs`."""
    t0 = time.time()
    B, Fr = inputs["sample"].shape[0], cfg.frames
    flow = flow.clone()
    flow[0] = 0
    steps = u2.program()
    plan = split_program(steps, u2.input_names(), ["noise_pred"])
    env = dict(inputs)
    with torch.no_grad():
        run_steps(steps, env, flow)
    seg_files, plan_json = [], []
    for item in plan:
        if item[0] == "onnx":
            _, g, ins, outs = item
            idx = len(seg_files)
            fname = f"stage2_unet.seg{idx:02d}.onnx"
            ax = dyn_axes({k: env[k] for k in ins + outs}, B, Fr)
            export(StepsModule(u2, g, ins, outs), [env[k] for k in ins], ins, outs, os.path.join(out_dir, fname), ax)
            onnx.checker.check_model(os.path.join(out_dir, fname))
            seg_files.append(fname)
            plan_json.append({"kind": "onnx", "segment": idx, "inputs": ins, "outputs": outs})
        else:
            s = item[1]
            tokn, kvn = s.reads[0], s.writes[0]
            _, fh, fw, c = env[tokn].shape
            plan_json.append({"kind": "motion_attention", "module": s.meta["module"], "input": tokn, "output": kvn,
                              "flow": "flow", "frames": Fr, "height": fh, "width": fw, "channels": c,
                              "heads": s.meta["heads"], "splat": "avg", "splat_eps": 1e-7, "frame0_batch": "same",
                              "resized_flow": f"flow_{fh}x{fw}"})
    log("exported stage-2 segments:", len(seg_files), f"({_usage(t0)})")
    return seg_files, plan_json


def write_variants(out_dir, files, precisions, log=print):
    """<name>.<precision>.onnx for every fp32 file (manifest.SUFFIX names)."""
    for fn in files:
        t0 = time.time()
        src = onnx.load(os.path.join(out_dir, fn))
        for p in precisions:
            v = variant(src, p)
            onnx.checker.check_model(v) if v.ByteSize() < 2_000_000_000 else None
            save(v, os.path.join(out_dir, fn.replace(".onnx", mf.SUFFIX[p])))
        del src
        log("variants", fn, ",".join(precisions), f"({_usage(t0)})")
