"""Checks a written model pack against its manifest.json and reports its size:

    /usr/bin/python3 -m tools.export.verify_pack <pack-dir> [--sha256] [--no-checker]

For every file the manifest lists: present, of the listed size (and sha256 with --sha256).  For every ONNX file
(every component, every stage-2 segment, every precision): onnx.checker on the path (external data included, so
graphs above 2 GB are checked too) and its graph inputs/outputs (names, dtypes, shapes) equal to the manifest's.
The stage-2 plan: every onnx step names its segment's inputs/outputs, every motion-attention step reads a tensor
an earlier segment writes and writes one a later segment reads.  Prints the pack size per component and per
precision from the files on disk (the table of README.md's full-size section).  Exit status 1 on any mismatch.
"""
import argparse
import json
import os
import sys

import onnx

from tools.export.onnx_export import io_spec, sha256_file

MB = 1e6


def _component_files(man):
    """(row name, precision, [FileEntry]) for every ONNX file of the pack; stage-2 segments under one row."""
    for name, c in man["components"].items():
        if "segments" in c:
            for seg in c["segments"]:
                for p, entries in seg["files"].items():
                    yield name, p, entries, seg, f"{name} segment {seg['index']}"
        else:
            for p, entries in c["files"].items():
                yield name, p, entries, c, name


def verify(pack_dir, sha=False, checker=True, log=print):
    """Returns (problems, sizes): problems as sentences, sizes[row][precision] in bytes."""
    with open(os.path.join(pack_dir, "manifest.json"), encoding="utf-8") as f:
        man = json.load(f)
    problems, sizes = [], {}

    def check_entry(e):
        p = os.path.join(pack_dir, e["path"])
        if not os.path.isfile(p):
            problems.append(f"{e['path']}: listed in the manifest, missing")
            return 0
        n = os.path.getsize(p)
        if n != e["bytes"]:
            problems.append(f"{e['path']}: {n} bytes, the manifest says {e['bytes']}")
        if sha and sha256_file(p) != e["sha256"]:
            problems.append(f"{e['path']}: sha256 differs from the manifest")
        return n

    for e in man["tokenizer"]["files"] + man.get("goldens", []):
        check_entry(e)
    for row, prec, entries, spec, words in _component_files(man):
        nbytes = sum(check_entry(e) for e in entries)
        sizes.setdefault(row, {}).setdefault(prec, 0)
        sizes[row][prec] += nbytes
        path = os.path.join(pack_dir, entries[0]["path"])
        if not os.path.isfile(path):
            continue
        if checker:
            try:
                onnx.checker.check_model(path)
            except Exception as ex:  # noqa: BLE001 — reported as a problem with the file named
                problems.append(f"{entries[0]['path']} ({words}, {prec}): onnx.checker: {ex}")
        try:
            ins, outs = io_spec(onnx.load(path, load_external_data=False))
        except Exception as ex:  # noqa: BLE001 — a damaged file is a problem to report, not a crash
            problems.append(f"{entries[0]['path']} ({words}, {prec}): not readable as ONNX: {ex}")
            continue
        want = lambda specs: [{k: t[k] for k in ("name", "dtype", "shape")} for t in specs]  # noqa: E731
        if ins != want(spec["inputs"]) or outs != want(spec["outputs"]):
            problems.append(f"{entries[0]['path']} ({words}, {prec}): graph inputs/outputs differ from the manifest: "
                            f"file {[t['name'] for t in ins]} -> {[t['name'] for t in outs]}")
        log(f"checked {entries[0]['path']}")
    s2 = man["components"].get("stage2_unet")
    if s2:
        problems += plan_problems(s2)
    return problems, sizes


def plan_problems(s2):
    """The plan's steps against the segments' declared inputs/outputs."""
    out, written = [], set(t["name"] for t in s2["inputs"])
    segs = {s["index"]: s for s in s2["segments"]}
    used = []
    for i, step in enumerate(s2["plan"]):
        if step["kind"] == "onnx":
            seg = segs.get(step["segment"])
            if seg is None:
                out.append(f"plan step {i}: segment {step['segment']} is not in the manifest")
                continue
            used.append(step["segment"])
            if step["inputs"] != [t["name"] for t in seg["inputs"]]:
                out.append(f"plan step {i}: inputs differ from segment {step['segment']}'s")
            if step["outputs"] != [t["name"] for t in seg["outputs"]]:
                out.append(f"plan step {i}: outputs differ from segment {step['segment']}'s")
            missing = [n for n in step["inputs"] if n not in written]
            if missing:
                out.append(f"plan step {i}: segment {step['segment']} reads {missing}, which no earlier step writes")
            written.update(step["outputs"])
        else:
            reads = [step[k] for k in ("qkv", "frame0_kv", "pe")]
            missing = [n for n in reads if n not in written]
            if missing:
                out.append(f"plan step {i}: motion attention reads {missing}, which no earlier step writes")
            later = [n for s in s2["plan"][i + 1:] if s["kind"] == "onnx" for n in s["inputs"]]
            if step["output"] not in later:
                out.append(f"plan step {i}: motion attention writes {step['output']}, which no later segment reads")
            written.add(step["output"])
    if sorted(used) != sorted(segs):
        out.append(f"plan: runs segments {sorted(used)}, the manifest has {sorted(segs)}")
    if "noise_pred" not in written:
        out.append("plan: no step writes noise_pred")
    return out


def size_table(sizes, precisions):
    rows = ["| component | " + " | ".join(precisions) + " |", "|---|" + "---:|" * len(precisions)]
    total = {p: 0 for p in precisions}
    for row, by in sizes.items():
        rows.append(f"| {row} | " + " | ".join(f"{by.get(p, 0) / MB:,.0f} MB" for p in precisions) + " |")
        for p in precisions:
            total[p] += by.get(p, 0)
    rows.append("| **total** | " + " | ".join(f"{total[p] / MB:,.0f} MB" for p in precisions) + " |")
    return "\n".join(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m tools.export.verify_pack", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pack_dir")
    ap.add_argument("--sha256", action="store_true", help="also hash every file (minutes for a full-size pack)")
    ap.add_argument("--no-checker", action="store_true", help="skip onnx.checker")
    a = ap.parse_args(argv)
    problems, sizes = verify(a.pack_dir, sha=a.sha256, checker=not a.no_checker)
    with open(os.path.join(a.pack_dir, "manifest.json"), encoding="utf-8") as f:
        precisions = json.load(f)["precisions"]
    print(size_table(sizes, precisions))
    for p in problems:
        print("PROBLEM:", p)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
