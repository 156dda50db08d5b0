"""Export a model pack from the official Motion-I2V checkpoint folder.

    /usr/bin/python3 -m tools.export <checkpoint-dir> <out-dir> [--precision fp32,q8,fp16,q4,q4f16,q4c8,q4c8f16] [--overwrite]
                                     [--frame0-batch same|reference_quirk]

<checkpoint-dir> is the authors' models/ folder (stage1/, stage2/; layout in checkpoint.py and README.md).
Every config.json and file is checked and every module loaded (as the authors load it; then freed) before anything
is exported; the export loads, exports and frees one component at a time; the pack is written into a
temporary folder beside <out-dir> and renamed into place at the end, so a failure leaves no half-written pack
and an existing <out-dir> untouched.  Exit status: 0 done, 2 bad input (message names the file), 1 other error.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time

from tools.export import configs
from tools.export.checkpoint import (LAYOUT, SIBLINGS, STAGE1_TOKENIZER_FILES, TOKENIZER_FILES, CheckpointError,
                                     check_files, digest, load_component)
from tools.export.config_check import check_configs, config_files
from tools.export.pack import FRAME0_BATCH, MODULES, PRECISIONS, build_empty, export_pack, free_heap, peak_rss_mb

# Load order of the check pass (stage 1 first, as the demo) and the modules each component fills.
ORDER = ["stage1_text_encoder", "stage1_vae_encoder", "flow_vae", "stage1_unet", "controlnet", "text_encoder", "vae",
         "stage2_unet"]
_VAE_ENCODER_KEYS = ("encoder.", "quant_conv.")
DEFAULT_PRECISIONS = "q4c8f16,q4c8"


class CheckpointModels:
    """Components loaded on first use and freed by release(), so exporting holds one component at a time."""

    def __init__(self, root, cfg, vocab_size, stage1_extras=(), log=print):
        self.root, self.cfg, self.vocab_size, self.log = root, cfg, vocab_size, log
        self.stage1_extras = list(stage1_extras)
        self._loaded = {}

    def load(self, name):
        module = build_empty(name, self.cfg, self.vocab_size)
        sib = SIBLINGS.get(name)
        sib_keys = ()
        if sib:
            sib_keys = [sib[1] + k for k in build_empty(sib[0], self.cfg, self.vocab_size).state_dict()]
        report = load_component(self.root, name, module, self.log, sibling_keys=sib_keys)
        return module.eval(), report

    def __getitem__(self, name):
        if name not in self._loaded:
            self._loaded[name] = self.load(name)[0]
            self.log(f"loaded {name}")
        return self._loaded[name]

    def release(self, name):
        self._loaded.pop(name, None)


def _same_tokenizer(root, log):
    """The pack has one tokenizer; the authors' stages each read their own folder's files."""
    for a, b in zip(STAGE1_TOKENIZER_FILES, TOKENIZER_FILES):
        pa, pb = os.path.join(root, a), os.path.join(root, b)
        with open(pa, "rb") as fa, open(pb, "rb") as fb:
            da, db = fa.read(), fb.read()
        if da == db:
            continue
        if a.endswith(".json"):
            try:
                same = json.loads(da) == json.loads(db)
            except ValueError as e:
                raise CheckpointError(f"{pa}: expected the CLIP vocabulary as JSON ({e})")
        else:
            lines = lambda d: [ln for ln in d.decode("utf-8").splitlines() if ln and not ln.startswith("#version")]  # noqa: E731
            same = lines(da) == lines(db)
        if not same:
            raise CheckpointError(f"{pa}: differs from {b}; the pack holds one tokenizer for both stages, so a "
                                  f"different stage-1 tokenizer is not supported")
    log("stage-1 and stage-2 tokenizers are identical")


def load_models(root, cfg, log=print):
    """Check pass: every file, every config.json, every component loaded once (and freed).  Returns a lazy
    CheckpointModels for the export and the report lines (ignored keys, identical stage-1 files)."""
    check_files(root, list(config_files(cfg)))
    notes = check_configs(root, cfg, log)
    vocab_path = os.path.join(root, TOKENIZER_FILES[0])
    try:
        with open(vocab_path, encoding="utf-8") as f:
            vocab = json.load(f)
    except ValueError as e:
        raise CheckpointError(f"{vocab_path}: expected the CLIP vocabulary as JSON ({e})")
    if cfg.text.vocab_size and len(vocab) != cfg.text.vocab_size:
        raise CheckpointError(f"{vocab_path}: {len(vocab)} tokens, expected {cfg.text.vocab_size} (CLIP ViT-L/14)")
    _same_tokenizer(root, log)
    models = CheckpointModels(root, cfg, len(vocab), log=log)
    digests = {}
    for name in ORDER:
        module, report = models.load(name)
        for rel, keys in report.ignored:
            notes.append(f"{rel}: {len(keys)} key(s) ignored for {name}, as the authors' loader ignores them, "
                         f"e.g. {', '.join(keys[:3])}")
        if name in ("text_encoder", "stage1_text_encoder"):
            digests[name] = digest(module)
        elif name in ("vae", "stage1_vae_encoder"):
            digests[name] = digest(module, _VAE_ENCODER_KEYS)
        log(f"checked {name}")
        del module
        free_heap()
    for s2, s1, what in (("text_encoder", "stage1_text_encoder", "text encoders"),
                         ("vae", "stage1_vae_encoder", "image-VAE encoders (SD VAE for stage 1, Realistic Vision's for stage 2)")):
        if digests[s1] == digests[s2]:
            notes.append(f"stage-1 and stage-2 {what} have identical weights: the pack has one {s2}")
        else:
            models.stage1_extras.append(s1)
            notes.append(f"stage-1 and stage-2 {what} differ: the pack also has {s1}")
    return models, notes


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m tools.export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint_dir")
    ap.add_argument("out_dir")
    # Browser default: the packs most users can download (full size: q4c8f16 2.7 GB for adapters with shader-f16,
    # q4c8 with fp32 activations for the others); q4f16 / q4 keep the convolutions in fp16 / fp32 (4.3 GB and more)
    # for those who can store them.  A full fp32 pack (about 14 GB, a 5 GB stage-1 UNet graph) is for parity checks.
    ap.add_argument("--precision", default=DEFAULT_PRECISIONS,
                    help=f"comma-separated subset of {','.join(PRECISIONS)} (default {DEFAULT_PRECISIONS})")
    ap.add_argument("--config", default="full", choices=["full", "tiny"],
                    help="architecture sizes: full (the official checkpoints) or tiny (tests)")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing out_dir (only after success)")
    ap.add_argument("--only", default=None,
                    help=f"measurement aid: export only these of {','.join(MODULES)} (after the full check pass); "
                         f"the folder gets their graphs and variants but no manifest.json")
    # The segments are the same in both modes: only the plan's field changes, which the browser reads.
    ap.add_argument("--frame0-batch", default="same", choices=FRAME0_BATCH,
                    help="under guidance, each batch entry warps its own frame 0 (same, default), or mixes the "
                         "entries as the authors' code does (reference_quirk: reproduces the authors' outputs)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    log = (lambda *x: None) if a.quiet else (lambda *x: print(*x, flush=True))
    precisions = [p.strip() for p in a.precision.split(",") if p.strip()]
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad or not precisions:
        print(f"error: unknown precision {','.join(bad) or '(none)'}; choose from {','.join(PRECISIONS)}", file=sys.stderr)
        return 2
    only = None
    if a.only is not None:
        only = [m.strip() for m in a.only.split(",") if m.strip()]
        bad = [m for m in only if m not in MODULES]
        if bad or not only:
            print(f"error: unknown module {','.join(bad) or '(none)'} for --only; choose from {','.join(MODULES)}",
                  file=sys.stderr)
            return 2
    out = os.path.abspath(a.out_dir)
    if os.path.exists(out) and not a.overwrite:
        print(f"error: {out} exists; pass --overwrite to replace it", file=sys.stderr)
        return 2
    cfg = configs.FULL if a.config == "full" else configs.TINY
    t0 = time.time()
    try:
        models, notes = load_models(a.checkpoint_dir, cfg, log)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for n in notes:
        log("note:", n)
    log(f"check pass: {time.time() - t0:.1f} s, cpu {time.process_time():.1f} s, peak RSS {peak_rss_mb(reset=True):.0f} MB")
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    # a full export runs for a long time: `kill` (SIGTERM) must clean up like Ctrl-C does (installed before the
    # folder exists, so no signal can fall between the two)
    terminated = []

    def on_sigterm(*_):
        terminated.append(True)
        sys.exit(143)

    signal.signal(signal.SIGTERM, on_sigterm)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".partial-", dir=parent)
    try:
        export_pack(models, cfg, tmp, precisions,
                    tokenizer_files=[os.path.join(a.checkpoint_dir, t) for t in TOKENIZER_FILES], log=log, only=only,
                    frame0_batch=a.frame0_batch)
        if os.path.exists(out):
            old = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".old-", dir=parent)
            os.rename(out, os.path.join(old, "pack"))
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except CheckpointError as e:                  # a file changed between the check and the export pass
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if terminated:  # the signal's SystemExit can come back wrapped in a library's own error (torch.onnx)
            sys.exit(143)
        raise
    log(f"wrote {out} in {time.time() - t0:.1f} s, cpu {time.process_time():.1f} s, peak RSS of the whole run "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
