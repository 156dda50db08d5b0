"""Write a model pack (ONNX components, stage-2 segments + plan, precision variants, tokenizer, manifest) from
loaded reference modules.  Used by the CLI (`python3 -m tools.export`).  The tiny pack (make_tiny.py) is traced
on its golden inputs at batch 2; this module traces at batch 1 on random inputs with the same dynamic axes, and
tests/test_cli.py checks that both give identical bytes.
"""
import ctypes
import gc
import json
import os
import resource
import shutil
import time
from dataclasses import replace

import numpy as np
import onnx
import torch

from tools.export import manifest as mf
from tools.export.clip import CLIPTextModel
from tools.export.meta import buffers_to_meta, meta_factories, meta_init
from tools.export.onnx_export import StepsModule, dyn_axes, export, save, split_program
from tools.export.quantize import variant
from tools.export.unet import ControlNetModel, UNet3DConditionModel, run_steps
from tools.export.vae import AutoencoderKL, VAEDecoderExport, VAEEncoderExport

PRECISIONS = ("fp32", "q8", "fp16", "q4", "q4f16", "q4c8", "q4c8f16")


def peak_rss_mb(reset=False):
    """Peak resident memory in MB since the last reset (Linux: VmHWM, reset through /proc/self/clear_refs), else
    the process's peak so far (getrusage)."""
    try:
        with open("/proc/self/status") as f:
            hwm = next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) / 1024.0
        if reset:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        return hwm
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def free_heap():
    """Give freed memory back to the system.  glibc keeps freed heap pages (most tensors of a trace are below its
    mmap threshold, which rises to 32 MB as large blocks are freed): after the full-size stage-1 UNet trace the
    process stayed at 15.9 GB resident with the module released, and the later steps' peaks added to that.  A
    no-op where malloc_trim does not exist."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _start():
    return time.time(), time.process_time()


def _usage(start):
    """Wall and CPU seconds since start (on shared cores the CPU time is the comparable number) and the peak resident
    memory since the previous step (for the CLI's log); resets the peak, so each step reports its own."""
    t0, c0 = start
    return (f"{time.time() - t0:.1f} s, cpu {time.process_time() - c0:.1f} s, "
            f"peak RSS {peak_rss_mb(reset=True):.0f} MB")


def build_empty(name, cfg, vocab_size):
    """The component's module on the meta device (no memory): the CLI's loader fills it from the files, and the
    export runs it on meta tensors for shapes."""
    with meta_init():
        if name in ("text_encoder", "stage1_text_encoder"):
            return CLIPTextModel(replace(cfg.text, vocab_size=vocab_size))
        if name in ("vae", "stage1_vae_encoder"):
            return AutoencoderKL(cfg.image_vae)
        if name == "flow_vae":
            return AutoencoderKL(cfg.flow_vae)
        if name == "stage1_unet":
            return UNet3DConditionModel(cfg.stage1_unet)
        if name == "controlnet":
            return ControlNetModel(cfg.stage1_unet, cfg.controlnet_cond_hidden)
        if name == "stage2_unet":
            return UNet3DConditionModel(cfg.stage2_unet)
    raise KeyError(name)


def shape_run(steps, env, frames):
    """Run a program on meta tensors: every SSA tensor's shape, no arithmetic.  A motion-attention step (WGSL in
    the browser; its splat has no meta kernel) gives its documented shapes: warped (B, F-1, h, w, 2C) and the
    attention output (B*F, h, w, C)."""
    with torch.no_grad(), meta_factories():
        for s in steps:
            if s.kind == "motion_attention":
                bf, fh, fw, c3 = env[s.reads[0]].shape
                env[s.writes[0]] = torch.empty(bf // frames, frames - 1, fh, fw, 2 * c3 // 3, device="meta")
                env[s.writes[1]] = torch.empty(bf, fh, fw, c3 // 3, device="meta")
            else:
                run_steps([s], env)
    return env


def _meta(*shape, dtype=torch.float32):
    return torch.empty(*shape, dtype=dtype, device="meta")


# Graphs are traced at the smallest shapes their dynamic axes allow: batch 1 (the only dynamic axis; frames and
# canvas are fixed by the pack).  Which axes are dynamic is decided on meta tensors at batch 2, where a leading 2
# is the batch and a leading 2F the frame-major batch without ambiguity (at batch 1, F would be both).  Tracing
# at batch 1 gives the same graph bytes as at batch 2 (tests/test_cli.py: the tiny pack) and a quarter of the
# arithmetic of a batch-2 trace plus the forward that used to name the outputs.
TRACE_BATCH = 1
AXES_BATCH = 2


MODULES = ("text_encoder", "vae", "flow_vae", "controlnet", "stage1_unet", "stage2_unet")


def export_pack(models, cfg, out_dir, precisions=("fp32", "q8"), tokenizer_files=None, log=print, only=None,
                frame0_batch="same"):
    """models: text_encoder, vae, flow_vae, stage1_unet, controlnet, stage2_unet (float32, eval) by name; a lazy
    loader (CheckpointModels: release(name), vocab_size) is freed component by component.  tokenizer_files:
    (vocab.json path, merges.txt path) copied into tokenizer/.  Returns the manifest.
    only: a subset of MODULES to export (a measurement aid: no manifest is written, None is returned).  The
    components are independent: each is traced on random inputs of its own shapes."""
    want = (lambda n: True) if only is None else (lambda n: n in only)  # noqa: E731
    torch.use_deterministic_algorithms(True)
    rng = np.random.Generator(np.random.PCG64(1234))

    def rand(*shape, scale=1.0):
        return torch.from_numpy((scale * rng.standard_normal(shape)).astype(np.float32))

    W, H, Fr = cfg.width, cfg.height, cfg.frames
    h, w = H // cfg.latent_factor, W // cfg.latent_factor
    F1, B, L = Fr - 1, AXES_BATCH, cfg.text.max_position_embeddings
    b = TRACE_BATCH
    os.makedirs(os.path.join(out_dir, "tokenizer"), exist_ok=True)
    vocab, merges = tokenizer_files
    shutil.copyfile(vocab, os.path.join(out_dir, "tokenizer", "vocab.json"))
    shutil.copyfile(merges, os.path.join(out_dir, "tokenizer", "merges.txt"))

    def one(module, inputs, in_names, out_names, fname, axes):
        t0 = _start()
        model = export(module, [inputs[k] for k in in_names], in_names, out_names, os.path.join(out_dir, fname), axes)
        del model
        onnx.checker.check_model(os.path.join(out_dir, fname))
        log("exported", fname, f"({_usage(t0)})")

    def release(name):
        if hasattr(models, "release"):        # a lazy loader: free the component once its graphs are written
            models.release(name)
            free_heap()

    vocab_size = getattr(models, "vocab_size", None)
    if vocab_size is None:
        vocab_size = models["text_encoder"].text_model.embeddings.token_embedding.num_embeddings
    D = cfg.text.hidden_size
    meta_te = buffers_to_meta(build_empty("text_encoder", cfg, vocab_size))
    with torch.no_grad(), meta_factories():
        te_axes = dyn_axes({"input_ids": _meta(B, L, dtype=torch.int32),
                            "last_hidden_state": meta_te(_meta(B, L, dtype=torch.int32))}, B, F1)
    ids = torch.arange(b * L, dtype=torch.int32).reshape(b, L) % vocab_size
    if want("text_encoder"):
        one(models["text_encoder"], {"input_ids": ids}, ["input_ids"], ["last_hidden_state"], "text_encoder.onnx",
            te_axes)
        release("text_encoder")
    ctx = rand(b, L, D)                        # trace input only: graph bytes do not depend on values
    # VAE graphs have no dynamic axis (one image / one latent per call)
    image, image_eps, latent = rand(1, 3, H, W), rand(1, 4, h, w), rand(1, 4, h, w)
    if want("vae"):
        vae = models["vae"]
        one(VAEEncoderExport(vae), {"image": image, "eps": image_eps}, ["image", "eps"], ["latent"],
            "vae_encoder.onnx", {})
        one(VAEDecoderExport(vae), {"latent": latent}, ["latent"], ["image"], "vae_decoder.onnx", {})
        del vae
        release("vae")
    fl_image, fl_eps, fl_latent = rand(1, 2, H, W), rand(1, 4, h, w), rand(1, 4, h, w)
    if want("flow_vae"):
        fvae = models["flow_vae"]
        one(VAEEncoderExport(fvae), {"image": fl_image, "eps": fl_eps}, ["image", "eps"], ["latent"],
            "flow_vae_encoder.onnx", {})
        one(VAEDecoderExport(fvae), {"latent": fl_latent}, ["latent"], ["image"], "flow_vae_decoder.onnx", {})
        del fvae
        release("flow_vae")

    def s1_inputs(n, make):
        return {"sample": make(n, 8, F1, h, w), "timestep": make(n), "encoder_hidden_states": make(n, L, D),
                "stride": make(n, F1), "control": make(n, 5, F1, h, w), "control_scale": make(1)}

    meta_cn = buffers_to_meta(build_empty("controlnet", cfg, vocab_size))
    meta_u1 = buffers_to_meta(build_empty("stage1_unet", cfg, vocab_size))
    cn_in, cn_out = meta_cn.input_names(), meta_cn.output_names()
    u1_names = meta_u1.input_names(with_control=True)
    axes_env = shape_run(meta_cn.program(), s1_inputs(B, _meta), F1)
    u1_axes_env = shape_run(meta_u1.program(True), {k: axes_env[k] for k in u1_names}, F1)
    trace_env = shape_run(meta_cn.program(), s1_inputs(b, _meta), F1)
    s1_in = {"sample": rand(b, 8, F1, h, w), "timestep": torch.tensor([501.0] * b), "encoder_hidden_states": ctx,
             "stride": torch.tensor([list(cfg.strides[:F1])] * b, dtype=torch.float32),
             "control": rand(b, 5, F1, h, w), "control_scale": torch.tensor([1.0])}
    if want("controlnet"):
        cn = models["controlnet"]
        one(StepsModule(cn, cn.program(), cn_in, cn_out), s1_in, cn_in, cn_out, "controlnet.onnx",
            dyn_axes({k: axes_env[k] for k in cn_in + cn_out}, B, F1))
        del cn
        release("controlnet")
    u1_in = dict(s1_in, **{k: rand(*trace_env[k].shape) for k in cn_out})
    if want("stage1_unet"):
        u1 = models["stage1_unet"]
        one(StepsModule(u1, u1.program(True), u1_names, ["noise_pred"]), u1_in, u1_names, ["noise_pred"],
            "stage1_unet.onnx", dyn_axes({k: u1_axes_env[k] for k in u1_names + ["noise_pred"]}, B, F1))
        del u1
        release("stage1_unet")
    del u1_in
    seg_files, plan_json = [], []
    if want("stage2_unet"):
        seg_files, plan_json = export_stage2(models["stage2_unet"], cfg, out_dir, log,
                                             meta_u2=buffers_to_meta(build_empty("stage2_unet", cfg, vocab_size)),
                                             ctx_dim=D, rand=rand, frame0_batch=frame0_batch)
        release("stage2_unet")
    if only is not None:
        names = {"vae": ["vae_encoder", "vae_decoder"], "flow_vae": ["flow_vae_encoder", "flow_vae_decoder"]}
        files = [c + ".onnx" for n in MODULES if want(n) and n != "stage2_unet" for c in names.get(n, [n])]
        write_variants(out_dir, files + seg_files, [p for p in precisions if p != "fp32"], log)
        return None
    # Stage 1's own text encoder / image-VAE encoder, only when they differ from stage 2's (the CLI decides).
    extra = [c for c in getattr(models, "stage1_extras", ()) if c in mf.OPTIONAL_COMPONENTS]
    if "stage1_text_encoder" in extra:
        one(models["stage1_text_encoder"], {"input_ids": ids}, ["input_ids"], ["last_hidden_state"],
            "stage1_text_encoder.onnx", te_axes)
        release("stage1_text_encoder")
    if "stage1_vae_encoder" in extra:
        one(VAEEncoderExport(models["stage1_vae_encoder"]), {"image": image, "eps": image_eps}, ["image", "eps"],
            ["latent"], "stage1_vae_encoder.onnx", {})
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


def export_stage2(u2, cfg, out_dir, log=print, meta_u2=None, ctx_dim=None, rand=None, frame0_batch="same"):
    """Segments stage2_unet.segNN.onnx + the plan (README: stage-2 cut).  Shapes at the cuts come from a meta run
    of the program (batch 2 for the dynamic axes, batch 1 for the trace inputs); each segment is traced once at
    batch 1 on random inputs, so the whole UNet is computed once, at batch 1."""
    t0 = _start()
    Fr, B, b = cfg.frames, AXES_BATCH, TRACE_BATCH
    h, w = cfg.height // cfg.latent_factor, cfg.width // cfg.latent_factor
    L = cfg.text.max_position_embeddings
    steps = u2.program()
    plan = split_program(steps, u2.input_names(), ["noise_pred"])

    def meta_inputs(n):
        return {"sample": _meta(n, 4, Fr, h, w), "timestep": _meta(n), "encoder_hidden_states": _meta(n, L, ctx_dim)}
    axes_env = shape_run(meta_u2.program(), meta_inputs(B), Fr)
    trace_env = shape_run(meta_u2.program(), meta_inputs(b), Fr)
    seg_files, plan_json = [], []
    for item in plan:
        if item[0] == "onnx":
            _, g, ins, outs = item
            idx = len(seg_files)
            fname = f"stage2_unet.seg{idx:02d}.onnx"
            ax = dyn_axes({k: axes_env[k] for k in ins + outs}, B, Fr)
            args = [torch.tensor([501.0] * b) if k == "timestep" else rand(*trace_env[k].shape) for k in ins]
            export(StepsModule(u2, g, ins, outs), args, ins, outs, os.path.join(out_dir, fname), ax)
            onnx.checker.check_model(os.path.join(out_dir, fname))
            seg_files.append(fname)
            plan_json.append({"kind": "onnx", "segment": idx, "inputs": ins, "outputs": outs})
        else:
            s = item[1]
            plan_json.append(motion_attention_plan_step(s, axes_env[s.reads[0]].shape, Fr, frame0_batch))
    log("exported stage-2 segments:", len(seg_files), f"({_usage(t0)})")
    return seg_files, plan_json


FRAME0_BATCH = ("same", "reference_quirk")


def motion_attention_plan_step(s, qkv_shape, frames, frame0_batch="same"):
    """The plan JSON of a motion_attention step (README: stage-2 cut); qkv_shape = (B*F, h, w, 3C).  frame0_batch
    only tells the browser which batch entry's frame 0 each entry warps: the segments are the same either way."""
    if frame0_batch not in FRAME0_BATCH:
        raise ValueError(f"frame0_batch {frame0_batch!r}: one of {', '.join(FRAME0_BATCH)}")
    _, fh, fw, c3 = qkv_shape
    qkv, kv0, pe = s.reads
    warped, out = s.writes
    return {"kind": "motion_attention", "module": s.meta["module"], "qkv": qkv, "frame0_kv": kv0, "pe": pe,
            "warped": warped, "output": out, "flow": "flow", "frames": frames, "height": fh, "width": fw,
            "channels": c3 // 3, "heads": s.meta["heads"], "splat": "avg", "splat_eps": 1e-7,
            "frame0_batch": frame0_batch, "resized_flow": f"flow_{fh}x{fw}"}


def write_variants(out_dir, files, precisions, log=print):
    """<name>.<precision>.onnx for every fp32 file (manifest.SUFFIX names)."""
    for fn in files:
        t0 = _start()
        src = onnx.load(os.path.join(out_dir, fn))
        for p in precisions:
            v = variant(src, p)
            onnx.checker.check_model(v) if v.ByteSize() < 2_000_000_000 else None
            save(v, os.path.join(out_dir, fn.replace(".onnx", mf.SUFFIX[p])))
            del v
        del src
        free_heap()
        log("variants", fn, ",".join(precisions), f"({_usage(t0)})")
