#!/usr/bin/env python3
"""ONNX import against the framework that exported the model (issue 16).

Debian's PyTorch (python3-torch 1.13) trains small CryptoNets-style networks for one epoch on
6,000 MNIST training images, written the ways people write them: nn.AvgPool2d (exported as
Pad + AveragePool), a dynamic batch axis with x.view(x.size(0), -1) (Shape / Gather /
Unsqueeze / Concat / Reshape), x * x, torch.pow(x, 2), a polynomial activation written as
arithmetic (Add / Mul chains), nn.ZeroPad2d before a convolution and BatchNorm2d. Each is
exported with torch.onnx.export, imported with `hecnn model-import-onnx`, and evaluated with
`hecnn model-eval --scores` on the first 1,000 test images. Oracle: PyTorch's own forward pass
of the exported weights in float64; every prediction must be equal and every score within
1e-9 (relative). The float32 forward pass is reported beside it.

usage: onnx_torch_test.py <hecnn binary> <repo root>
Exit 0: pass; 1: fail; prints "SKIP:" and exits 0 when torch is missing and
HECNN_REQUIRE_DATA is not set.
"""
import os
import subprocess
import sys
import tempfile

hecnn, root = os.path.realpath(sys.argv[1]), sys.argv[2]
require = os.environ.get("HECNN_REQUIRE_DATA", "0") not in ("", "0")
try:
    import numpy as np
    import onnx  # noqa: F401  (torch.onnx needs it)
    import torch
    import torch.nn as nn
except ImportError as e:
    if require:
        print(f"FAIL: {e} (install python3-torch python3-onnx: bash scripts/setup.sh)")
        sys.exit(1)
    print(f"SKIP: {e}")
    sys.exit(0)

data = os.environ.get("HECNN_DATA_DIR", os.path.join(root, "data"))
mnist = os.path.join(data, "mnist")


def idx(path, header):
    with open(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=header)


if not os.path.exists(os.path.join(mnist, "t10k-images-idx3-ubyte")):
    if require:
        print(f"FAIL: no MNIST under {mnist} (HECNN_REQUIRE_DATA is set)")
        sys.exit(1)
    print(f"SKIP: no MNIST under {mnist}")
    sys.exit(0)

train_x = idx(os.path.join(mnist, "train-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28)[:6000]
train_y = idx(os.path.join(mnist, "train-labels-idx1-ubyte"), 8)[:6000]
test_x = idx(os.path.join(mnist, "t10k-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28)[:1000]
torch.manual_seed(16)
torch.set_num_threads(2)


class Net(nn.Module):
    """conv 5x5 stride 2 -> act -> avg pool 2 (optional) -> flatten -> dense 64 -> act -> dense 10."""

    def __init__(self, act, pool=True, pre_pad=False, bn=False, view=False):
        super().__init__()
        self.act, self.view = act, view
        self.pad = nn.ZeroPad2d(1) if pre_pad else None
        self.conv = nn.Conv2d(1, 5, 5, stride=2, padding=0 if pre_pad else 1)
        self.bn = nn.BatchNorm2d(5) if bn else None
        self.pool = nn.AvgPool2d(2) if pool else None
        side = 6 if pool else 13
        self.fc1 = nn.Linear(5 * side * side, 64)
        self.fc2 = nn.Linear(64, 10)

    def a(self, x):
        if self.act == "mul":
            return x * x
        if self.act == "pow":
            return torch.pow(x, 2)
        return 0.125 * x * x + 0.5 * x + 0.25  # polynomial as arithmetic: Mul / Add chains

    def forward(self, x):
        if self.pad is not None:
            x = self.pad(x)
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        x = self.a(x)
        if self.pool is not None:
            x = self.pool(x)
        x = x.view(x.size(0), -1) if self.view else torch.flatten(x, 1)
        return self.fc2(self.a(self.fc1(x)))


cases = {
    # name: (module, dynamic batch axis, constant folding by the exporter)
    "avgpool_mul": (Net("mul"), False, True),
    "dynamic_batch_view": (Net("mul", view=True), True, True),
    "pow": (Net("pow", pool=False), False, True),
    # Without the exporter's folding, BatchNormalization stays a node (hecnn folds it, in
    # float64, as the oracle computes it) and the pads of ZeroPad2d stay a computation.
    "poly_arith_zeropad_bn": (Net("poly", pre_pad=True, bn=True, view=True), True, False),
}

fail = False
with tempfile.TemporaryDirectory() as tmp:
    xs = torch.tensor(train_x, dtype=torch.float32) / 255.0
    ys = torch.tensor(train_y, dtype=torch.long)
    for name, (net, dynamic, folding) in cases.items():
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        net.train()
        for i in range(0, len(xs), 64):  # one epoch
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xs[i:i + 64]), ys[i:i + 64])
            loss.backward()
            opt.step()
        net.eval()
        path = os.path.join(tmp, name + ".onnx")
        kw = {"dynamic_axes": {"image": {0: "batch"}, "scores": {0: "batch"}}} if dynamic else {}
        torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, input_names=["image"], output_names=["scores"],
                          do_constant_folding=folding,
                          training=torch.onnx.TrainingMode.EVAL if folding else torch.onnx.TrainingMode.PRESERVE, **kw)
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        xt = torch.tensor(test_x, dtype=torch.float64) / 255.0
        for mod in net.modules():  # the exported epsilon is a float32 attribute
            if isinstance(mod, nn.BatchNorm2d):
                mod.eps = float(np.float32(mod.eps))
        with torch.no_grad():
            want = net.double()(xt).numpy()
            want32 = net.float()(xt.float()).numpy()
        hm = os.path.join(tmp, name + ".hecnn")
        r = subprocess.run([hecnn, "model-import-onnx", path, "--out", hm], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL: {name}: import failed (ops {ops}): {r.stderr.strip()}")
            fail = True
            continue
        csv = os.path.join(tmp, name + ".csv")
        r = subprocess.run([hecnn, "model-eval", hm, "--limit", "1000", "--scores", csv],
                           capture_output=True, text=True, env=dict(os.environ, HECNN_DATA_DIR=data))
        if r.returncode != 0:
            print(f"FAIL: {name}: model-eval failed: {r.stderr.strip()}")
            fail = True
            continue
        got = np.loadtxt(csv, delimiter=",", skiprows=1)
        if got.shape != (1000, 13):
            print(f"FAIL: {name}: scores file has shape {got.shape}")
            fail = True
            continue
        pred, scores = got[:, 2].astype(int), got[:, 3:]
        same = int((pred == want.argmax(1)).sum())
        same32 = int((pred == want32.argmax(1)).sum())
        rel = float(np.max(np.abs(scores - want) / (1 + np.abs(want))))
        ok = same == 1000 and rel < 1e-9
        fail |= not ok
        print(f"{'ok' if ok else 'FAIL'}: {name}: ops {ops}; predictions equal to PyTorch float64 on {same}/1000 "
              f"(float32: {same32}/1000), max relative score error {rel:.2e}")
sys.exit(1 if fail else 0)
