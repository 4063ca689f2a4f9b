#!/usr/bin/python3
"""The peer's INT8 beside alcli's, by hand (not a test): ONNX Runtime's own static quantizer on the
PyTorch twin's export of the same trained weights, calibrated on the same crops.

  twin   (python3-torch 1.13): RUN's weights exported by alcli with the twin's names, loaded into
         shared/peers/alnet_torch.py's ALNet with load_state_dict(strict=True), fused (to_deploy),
         exported by torch.onnx.export (opset 17, input/logits, symbolic H and W) -> OUT/model.twin.onnx
  quantize (a Python with onnxruntime >= 1.17): quantize_static(QDQ, per_channel=True, MinMax,
         uint8 activations, int8 weights) on CALIB.f32 (scripts/calib-dump.ts) -> OUT/model.twin-int8.onnx

  /usr/bin/python3 scripts/peer-int8.py twin RUN OUT --hw 512
  PYTHON_WITH_ORT scripts/peer-int8.py quantize OUT CALIB
Then `alcli bench OUT --size 512x512` times every model*.onnx in OUT side by side, and
`alcli evaluate RUN --artifact OUT/model.twin-int8.onnx --split test` scores one.
"""
import argparse, importlib.util, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def twin(a):
    import torch
    spec = importlib.util.spec_from_file_location("twin_safetensors", os.path.join(HERE, "twin-safetensors.py"))
    ts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ts)
    spec = importlib.util.spec_from_file_location("alnet_torch", a.twin)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    exp = os.path.join(a.out, "weights")
    r = subprocess.run(["node", "bin/run.js", "export", a.run, "-o", exp, "--format", "safetensors", "--names", "twin", "--force"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr)
    sd = ts.load_safetensors(os.path.join(exp, "weights.safetensors"))
    classes, in_ch = sd["head.weight"].shape[0], sd["stages.0.0.dense.conv.weight"].shape[1]
    model = peer.ALNet(in_ch=in_ch, classes=classes)
    model.load_state_dict(sd, strict=True)
    deploy = model.eval().to_deploy().eval()
    x = torch.zeros(1, in_ch, a.hw, a.hw)
    path = os.path.join(a.out, "model.twin.onnx")
    # symbolic H and W, as alcli's model.onnx: the same file serves the ISBI tiles and whole STARE images
    torch.onnx.export(deploy, x, path, opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {2: "H", 3: "W"}, "logits": {2: "H", 3: "W"}})
    print(json.dumps({"twin_onnx": path, "torch": torch.__version__, "hw": a.hw}))


def quantize(a):
    import numpy as np
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    shape = json.load(open(a.calib + ".json"))["shape"]
    data = np.fromfile(a.calib + ".f32", dtype="<f4").reshape(shape)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"input": data[i:i + 1]} for i in range(len(data))])

        def get_next(self):
            return next(self.it, None)

    src, dst = os.path.join(a.out, "model.twin.onnx"), os.path.join(a.out, "model.twin-int8.onnx")
    quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, calibrate_method=CalibrationMethod.MinMax,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    print(json.dumps({"twin_int8_onnx": dst, "onnxruntime": onnxruntime.__version__, "calibration": shape}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("twin")
    t.add_argument("run")
    t.add_argument("out")
    t.add_argument("--hw", type=int, default=512)
    t.add_argument("--twin", default=os.path.join(ROOT, "..", "shared", "peers", "alnet_torch.py"))
    q = sub.add_parser("quantize")
    q.add_argument("out")
    q.add_argument("calib")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    (twin if a.cmd == "twin" else quantize)(a)


if __name__ == "__main__":
    main()
