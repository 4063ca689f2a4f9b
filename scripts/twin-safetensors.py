#!/usr/bin/python3
"""The PyTorch twin's weights as safetensors, imported by alcli with the `twin` map (by hand, not a test).

Builds shared/peers/alnet_torch.py's ALNet (random weights, BN statistics randomized as its `pair`
does, eval mode), saves its state_dict as WEIGHTS.safetensors (written by hand: the format is 8 bytes
of header length, the JSON header, raw little-endian data; the `safetensors` wheel is not needed),
saves a seeded input and the twin's logits as IO.safetensors, then runs scripts/twin-logits.ts, which
loads the weights into architectures/alnet.yaml through `--init-map twin` and compares the logits in
the training and the deploy form. Prints one JSON object.

  /usr/bin/python3 scripts/twin-safetensors.py [--twin ../shared/peers/alnet_torch.py] [--hw 64] [--out /tmp/twin]
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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--twin", default=os.path.join(here, "..", "..", "shared", "peers", "alnet_torch.py"))
    ap.add_argument("--hw", type=int, default=64)
    ap.add_argument("--out", default="/tmp/alcli-twin")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("alnet_torch", a.twin)
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    model, _ = twin.pair(a.seed)  # eval mode, random BN statistics
    os.makedirs(a.out, exist_ok=True)
    weights = os.path.join(a.out, "twin.safetensors")
    io = os.path.join(a.out, "io.safetensors")
    save_safetensors(weights, model.state_dict())
    x = torch.randn(1, 3, a.hw, a.hw, generator=torch.Generator().manual_seed(a.seed + 1))
    with torch.no_grad():
        y = model(x)
    save_safetensors(io, {"input": x, "logits": y})
    r = subprocess.run(["node", "--import", "tsx", os.path.join(here, "twin-logits.ts"), weights, io],
                       cwd=os.path.join(here, ".."), capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out.update(torch=torch.__version__, weights=weights, state_dict_tensors=len(model.state_dict()))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
