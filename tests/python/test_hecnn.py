"""The Python package (issue 16) against the hecnn program on the same files.

Run by ctest (python_package) as: python3 -m pytest tests/python with PYTHONPATH=<build>/python,
HECNN_BIN=<build>/apps/hecnn and the repository root as the working directory.
"""
import json
import os
import struct
import subprocess
import zlib

import pytest

import hecnn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HECNN = os.environ.get("HECNN_BIN", os.path.join(ROOT, "build", "apps", "hecnn"))
MODEL = os.path.join(ROOT, "models", "default", "member0.hecnn")
REQUIRE = os.environ.get("HECNN_REQUIRE_DATA", "0") not in ("", "0")
np = pytest.importorskip("numpy")


def have_mnist():
    d = os.environ.get("HECNN_DATA_DIR", os.path.join(ROOT, "data"))
    ok = os.path.exists(os.path.join(d, "mnist", "t10k-images-idx3-ubyte"))
    if not ok and REQUIRE:
        pytest.fail("no MNIST data (HECNN_REQUIRE_DATA is set)")
    return ok


needs_mnist = pytest.mark.skipif(not have_mnist(), reason="no MNIST under data/")


def test_model_info_and_errors():
    m = hecnn.load(MODEL)
    info = m.info()
    assert info["input_shape"] == [1, 28, 28]
    assert info["classes"] == 10
    assert info["layers"][0]["type"] == "conv2d"
    with pytest.raises(ValueError, match="nothere"):
        hecnn.load(os.path.join(ROOT, "nothere.hecnn"))
    with pytest.raises(ValueError, match="scheme 'rsa'"):
        hecnn.compile(m, "rsa")


@needs_mnist
def test_forward_equals_model_eval_scores(tmp_path):
    m = hecnn.load(MODEL)
    images, labels = hecnn.load_dataset("mnist", count=100)
    assert images.shape == (100, 1, 28, 28) and labels.shape == (100,)
    ours = m.forward(images)
    csv = tmp_path / "scores.csv"
    subprocess.run([HECNN, "model-eval", MODEL, "--limit", "100", "--scores", str(csv)], check=True, capture_output=True)
    theirs = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert np.array_equal(ours.argmax(1), theirs[:, 2].astype(int))
    assert np.max(np.abs(ours - theirs[:, 3:])) < 1e-12


@needs_mnist
def test_encrypted_run_equals_hecnn_infer(tmp_path):
    """BFV: the same plan options give the same predictions as `hecnn infer` on 64 images."""
    m = hecnn.load(MODEL)
    plan = hecnn.compile(m, "bfv", batch=64, agreement_target=0)
    assert "BFV parameters (128-bit security)" in plan.report()
    info = plan.info()
    assert info["scheme"] == "BFV" and info["poly_degree"] >= 4096
    images, labels = hecnn.load_dataset("mnist", count=64)
    client = hecnn.Client(plan)
    server = hecnn.Server(plan, client.evaluation_keys())
    scores = client.decrypt(server.evaluate(client.encrypt(images)))
    assert scores.shape == (1, 64, 10)
    ours = scores[0].argmax(1)
    out = subprocess.run([HECNN, "infer", "--model", MODEL, "--count", "64", "--agreement-target", "0", "--json"],
                         check=True, capture_output=True, text=True).stdout
    theirs = json.loads(out)["outputs"][0]["predictions"]
    assert ours.tolist() == theirs
    # Bad batches are refused before any encryption.
    with pytest.raises(ValueError, match="whole number"):
        client.encrypt(images.reshape(-1)[:100])
    with pytest.raises(ValueError, match="0..255"):
        client.encrypt(images.astype(np.int32) * 300)


def write_png(path, rows):
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@needs_mnist
def test_read_image_converts_like_mnist(tmp_path):
    images, labels = hecnn.load_dataset("mnist", count=1)
    d = images[0, 0]
    rows = [[255] * 90 for _ in range(100)]
    for y in range(56):
        for x in range(56):
            rows[20 + y][10 + x] = 255 - int(d[y // 2, x // 2])
    write_png(tmp_path / "seven.png", rows)
    img = hecnn.read_image(tmp_path / "seven.png")
    assert img.shape == (1, 28, 28)
    m = hecnn.load(MODEL)
    assert int(m.forward(img[None]).argmax()) == int(labels[0]) == 7
    with pytest.raises(ValueError, match="not a PNG"):
        (tmp_path / "x.txt").write_text("hello")
        hecnn.read_image(tmp_path / "x.txt")


def test_from_torch_matches_torch():
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 5, stride=2), torch.nn.Flatten(), torch.nn.Linear(3 * 12 * 12, 10))
    m = hecnn.from_torch(net)
    x = (torch.arange(4 * 784) % 251).reshape(4, 1, 28, 28).to(torch.uint8)
    with torch.no_grad():
        want = net.double()(x.double() / 255).numpy()
    got = m.forward(x.numpy())
    assert np.max(np.abs(got - want)) < 1e-5
