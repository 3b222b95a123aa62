#!/usr/bin/env python3
"""Train CryptoNets in PyTorch, compile it with hecnn, classify encrypted MNIST.

    bash scripts/install-python.sh          # once: builds hecnn and installs the package
    python3 examples/python/cryptonets_mnist.py --epochs 2

Step by step; each step is a notebook cell ("# %%", as Jupyter / VS Code read it):
  1. load MNIST (hecnn.load_dataset reads data/, which scripts/setup.sh fills);
  2. train CryptoNets (seed 001's network: conv 5x5x5 stride 2, x^2, dense 100, x^2, dense 10)
     with PyTorch (Debian's python3-torch);
  3. hand the torch module to hecnn (hecnn.from_torch exports it to ONNX and imports it) and
     save it as a hecnn model file;
  4. compile it: BFV, 128-bit security, quantization bits chosen for 99.9% agreement with the
     float model on training images; print the plan's report;
  5. the client encrypts 256 test images, the server evaluates without any secret key, the
     client decrypts the scores;
  6. with --hecnn PATH: run `hecnn infer` on the saved model file and check that its
     predictions are the same.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import hecnn

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--epochs", type=int, default=2)
ap.add_argument("--count", type=int, default=256, help="encrypted test images")
ap.add_argument("--out", default="cryptonets-torch.hecnn", help="model file to write")
ap.add_argument("--hecnn", default="", help="hecnn binary: also run `hecnn infer` on the model file and compare")
args = ap.parse_args()
require = os.environ.get("HECNN_REQUIRE_DATA", "0") not in ("", "0")
try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:
    if require:
        sys.exit(f"FAIL: {e} (bash scripts/setup.sh installs python3-torch)")
    print(f"SKIP: {e}")
    sys.exit(0)

# %% 1. Data.
train_x, train_y = hecnn.load_dataset("mnist", train=True)
test_x, test_y = hecnn.load_dataset("mnist", train=False, count=args.count)
print(f"MNIST: {len(train_x)} training images, {len(test_x)} test images to encrypt")


# %% 2. CryptoNets in PyTorch.
class Square(nn.Module):
    def forward(self, x):
        return x * x


torch.manual_seed(1)
torch.set_num_threads(max(1, os.cpu_count() or 1))
net = nn.Sequential(nn.Conv2d(1, 5, 5, stride=2, padding=1), Square(), nn.Flatten(), nn.Linear(5 * 13 * 13, 100), Square(),
                    nn.Linear(100, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
xs = torch.tensor(train_x, dtype=torch.float32) / 255.0
ys = torch.tensor(train_y, dtype=torch.long)
t0 = time.time()
for epoch in range(args.epochs):
    perm = torch.randperm(len(xs))
    for i in range(0, len(xs), 64):
        idx = perm[i:i + 64]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(xs[idx]), ys[idx])
        loss.backward()
        opt.step()
    print(f"epoch {epoch + 1}/{args.epochs}: last batch loss {loss.item():.3f} ({time.time() - t0:.0f} s)")
net.eval()

# %% 3. Into hecnn.
model = hecnn.from_torch(net, input_shape=(1, 28, 28), name="cryptonets-torch")
model.save(args.out)
print(f"wrote {args.out}: {model.info()['parameters']} parameters")

# %% 4. Compile.
t0 = time.time()
plan = hecnn.compile(model, "bfv", batch=len(test_x), log=lambda line: print("  " + line))
print(plan.report())
print(f"compiled in {time.time() - t0:.1f} s")

# %% 5. Encrypt, evaluate, decrypt.
client = hecnn.Client(plan)
server = hecnn.Server(plan, client.evaluation_keys())
t0 = time.time()
batch = client.encrypt(test_x)
t1 = time.time()
result = server.evaluate(batch)
t2 = time.time()
scores = client.decrypt(result)
t3 = time.time()
pred = scores[0].argmax(axis=1)
float_pred = model.forward(test_x).argmax(axis=1)
print(f"encrypt {t1 - t0:.2f} s, evaluate {t2 - t1:.2f} s, decrypt {t3 - t2:.2f} s")
print(f"encrypted accuracy {100 * np.mean(pred == test_y):.2f}% on {len(test_x)} images "
      f"(float model {100 * np.mean(float_pred == test_y):.2f}%, agreement {100 * np.mean(pred == float_pred):.2f}%)")

# %% 6. The same model file through the hecnn program.
if args.hecnn:
    out = subprocess.run([args.hecnn, "infer", "--model", args.out, "--count", str(len(test_x)), "--json"],
                         check=True, capture_output=True, text=True).stdout
    theirs = json.loads(out)["outputs"][0]["predictions"]
    same = sum(int(a == b) for a, b in zip(pred.tolist(), theirs))
    print(f"same predictions as `hecnn infer` on {args.out}: {same}/{len(test_x)}")
    if same != len(test_x) or len(theirs) != len(test_x):
        sys.exit("FAIL: the Python package and hecnn infer disagree")
