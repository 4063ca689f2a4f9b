#!/usr/bin/python3
"""The PyTorch twin's weights as safetensors, imported by alcli with the `twin` map (by hand, not a test).

Builds shared/peers/alnet_torch.py's ALNet (random weights, BN statistics randomized as its `pair`
does, eval mode), saves its state_dict as WEIGHTS.safetensors (written by hand: the format is 8 bytes
of header length, the JSON header, raw little-endian data; the `safetensors` wheel is not needed),
saves a seeded input and the twin's logits as IO.safetensors, then runs scripts/twin-logits.ts, which
loads the weights into architectures/alnet.yaml through `--init-map twin` and compares the logits in
the training and the deploy form. Prints one JSON object.

With --from-alcli SOURCE (a run directory, or a spec) it goes the other way: `alcli export SOURCE
--format safetensors --names twin` (needs `npm run build`), loaded into the twin with
load_state_dict(strict=True), and the same comparison of logits.

  /usr/bin/python3 scripts/twin-safetensors.py [--twin ../shared/peers/alnet_torch.py] [--hw 64] [--out /tmp/twin]
  /usr/bin/python3 scripts/twin-safetensors.py --from-alcli runs/isbi [--hw 64]
Needs python3-torch (1.13) and node; keep --hw small (the machine may be busy).
"""
import argparse, importlib.util, json, os, struct, subprocess, sys
import torch


def save_safetensors(path, tensors):
    """name -> tensor (float32 or int64), in order; header padded with spaces to 8 bytes."""
    header, blobs, at = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().astype("<" + t.numpy().dtype.str[1:]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """name -> tensor of a safetensors file (F32, I64), by hand."""
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        dt = {"F32": "<f4", "I64": "<i8"}[e["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype=dt).reshape(e["shape"]).copy())
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--twin", default=os.path.join(here, "..", "..", "shared", "peers", "alnet_torch.py"))
    ap.add_argument("--hw", type=int, default=64)
    ap.add_argument("--out", default="/tmp/alcli-twin")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--from-alcli", default=None, help="a run directory or a spec: its export, with the twin's names, loaded into the twin")
    a = ap.parse_args()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("alnet_torch", a.twin)
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    root = os.path.join(here, "..")
    os.makedirs(a.out, exist_ok=True)
    io = os.path.join(a.out, "io.safetensors")
    spec = "architectures/alnet.yaml"
    if a.from_alcli:
        exp = os.path.join(a.out, "export")
        cmd = ["node", "bin/run.js", "export", a.from_alcli, "-o", exp, "--format", "safetensors", "--names", "twin", "--force", "--size", f"{a.hw}x{a.hw}"]
        r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        if r.returncode:
            sys.stderr.write(r.stderr)
            sys.exit(r.returncode)
        weights = os.path.join(exp, "weights.safetensors")
        sd = load_safetensors(weights)
        classes, in_ch = sd["head.weight"].shape[0], sd["stages.0.0.dense.conv.weight"].shape[1]
        model = twin.ALNet(in_ch=in_ch, classes=classes)
        model.load_state_dict(sd, strict=True)
        model.eval()
        if os.path.isdir(os.path.join(root, a.from_alcli)):
            spec = os.path.join(a.from_alcli, "spec.resolved.yaml")
    else:
        model, _ = twin.pair(a.seed)  # eval mode, random BN statistics
        weights = os.path.join(a.out, "twin.safetensors")
        save_safetensors(weights, model.state_dict())
    x = torch.randn(1, model.stages[0][0].cin, a.hw, a.hw, generator=torch.Generator().manual_seed(a.seed + 1))
    with torch.no_grad():
        y = model(x)
    save_safetensors(io, {"input": x, "logits": y})
    r = subprocess.run(["node", "--import", "tsx", os.path.join(here, "twin-logits.ts"), weights, io, spec],
                       cwd=root, capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out.update(torch=torch.__version__, weights=weights, state_dict_tensors=len(model.state_dict()),
               direction="alcli export -> twin (load_state_dict strict)" if a.from_alcli else "twin -> alcli (--init-map twin)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
