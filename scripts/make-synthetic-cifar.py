#!/usr/bin/env python3
"""Writes synthetic data in the CIFAR-10 binary format (CIFAR-10 cannot be fetched here).

Each record is 1 label byte + 3072 bytes (3 x 32 x 32, channel-major), as in the real
data_batch_N.bin / test_batch.bin. Class c is a colored sinusoidal grating whose
orientation, frequency and color depend on c, at a random phase and position jitter,
plus strong noise: a small CNN learns it in a few epochs without separating every
image, so its scores have the close margins that make agreement a real test. Deterministic for a given --seed.

  scripts/make-synthetic-cifar.py --out /tmp/synth/cifar-10 --train 10000 --test 1000
  HECNN_DATA_DIR=/tmp/synth hecnn train --arch cryptodl-cifar --dataset cifar-10 ...
"""
import argparse
import math
import os
import random


def image(label, rng):
    angle = math.pi * label / 10.0 + rng.uniform(-0.08, 0.08)
    freq = 0.25 + 0.06 * (label % 4) + rng.uniform(-0.01, 0.01)
    phase = rng.uniform(0, 2 * math.pi)
    color = [(label * 37 + 60 * ch) % 256 / 255.0 for ch in range(3)]
    ca, sa = math.cos(angle), math.sin(angle)
    out = bytearray(3072)
    for ch in range(3):
        base = 0.4 + 0.2 * color[ch]
        for y in range(32):
            for x in range(32):
                v = base + 0.12 * math.sin(freq * (ca * x + sa * y) + phase) + rng.gauss(0, 0.3)
                out[ch * 1024 + y * 32 + x] = max(0, min(255, int(v * 255)))
    return out


def write_batch(path, count, rng):
    with open(path + ".tmp", "wb") as f:
        for i in range(count):
            label = rng.randrange(10)
            f.write(bytes([label]))
            f.write(image(label, rng))
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory to write (e.g. DIR/cifar-10)")
    ap.add_argument("--train", type=int, default=10000, help="training images, split over data_batch_1..5.bin")
    ap.add_argument("--test", type=int, default=1000, help="test images (test_batch.bin)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.train < 5 or a.test < 1 or a.train > 50000 or a.test > 10000:
        ap.error("--train must be 5..50000 and --test 1..10000")
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    for b in range(1, 6):
        n = a.train // 5 + (1 if b <= a.train % 5 else 0)
        write_batch(os.path.join(a.out, "data_batch_%d.bin" % b), n, rng)
    write_batch(os.path.join(a.out, "test_batch.bin"), a.test, rng)
    print("wrote %d training and %d test images to %s" % (a.train, a.test, a.out))


if __name__ == "__main__":
    main()
