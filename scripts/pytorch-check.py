#!/usr/bin/python3
"""The generated model.py against alcli's own logits (by hand, a benchmark-style check, not a test).

Runs `alcli export SPEC --format pytorch --size HWxHW` (needs `npm run build`; seeded random weights
with BatchNorm statistics calibrated, or a run directory's trained ones), imports the exported
pytorch/model.py, load()s its weights.safetensors (load_state_dict strict=True), runs it in eval mode
on a seeded 1 x C x HW x HW input, saves input and logits (and the float64 model's, as a yardstick), then scripts/pytorch-logits.ts runs alcli
(TF.js executor) on the same weights and input and prints the max abs diff of the logits, and each side's from the float64 logits. With
--deploy the same for the fused form. Prints one JSON object per form.

  /usr/bin/python3 scripts/pytorch-check.py [SOURCE] [--hw 64] [--deploy] [--out /tmp/alcli-pytorch]
Needs python3-torch (>= 1.11) and node; keep --hw small (the machine may be busy).
"""
import argparse, importlib.util, json, os, subprocess, sys
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def _twin_script():
    spec = importlib.util.spec_from_file_location("twin_safetensors", os.path.join(HERE, "twin-safetensors.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(cmd):
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(r.returncode)
    return r.stdout


def check(source, hw, seed, out, deploy):
    exp = os.path.join(out, "deploy" if deploy else "training")
    run(["node", "bin/run.js", "export", source, "-o", exp, "--format", "pytorch", "--force", "--size", f"{hw}x{hw}", "--seed", str(seed)]
        + (["--deploy"] if deploy else []))
    mspec = importlib.util.spec_from_file_location("alcli_model_" + ("deploy" if deploy else "training"), os.path.join(exp, "pytorch", "model.py"))
    generated = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(generated)
    model = generated.load().eval()
    x = torch.randn(1, generated.INPUT_CHANNELS, hw, hw, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        y = model(x)
        # the same network in float64: how far each float32 side is from exact
        y64 = model.double()(x.double()).float()
    io = os.path.join(exp, "io.safetensors")
    _twin_script().save_safetensors(io, {"input": x, "logits": y, "logits64": y64})
    spec = os.path.join(source, "spec.resolved.yaml") if os.path.isdir(os.path.join(ROOT, source)) else source
    res = json.loads(run(["node", "--import", "tsx", os.path.join(HERE, "pytorch-logits.ts"), os.path.join(exp, "pytorch", "weights.safetensors"), io, spec]).strip().splitlines()[-1])
    res.update(torch=torch.__version__, state_dict_tensors=len(model.state_dict()), logits_shape=list(y.shape), model_py=os.path.join(exp, "pytorch", "model.py"))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source", nargs="?", default="architectures/alnet.yaml", help="a spec, or a run directory")
    ap.add_argument("--hw", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deploy", action="store_true", help="also the deploy (fused) form")
    ap.add_argument("--out", default="/tmp/alcli-pytorch")
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    for deploy in [False, True] if a.deploy else [False]:
        print(json.dumps(check(a.source, a.hw, a.seed, a.out, deploy)))


if __name__ == "__main__":
    main()
