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


def free_port_file(tmp_path, name):
    return str(tmp_path / (name + ".port"))


def wait_port(path, proc, log, seconds=60):
    import time
    t0 = time.time()
    while time.time() - t0 < seconds:
        if os.path.exists(path) and open(path).read().strip():
            return int(open(path).read().strip())
        if proc.poll() is not None:
            raise AssertionError(f"{path}: the process exited: {open(log).read()}")
        time.sleep(0.1)
    raise AssertionError(f"{path}: no port after {seconds} s: {open(log).read()}")


def tiny_models(tmp_path, members):
    """8x8 models (conv, square, dense) from CSV weights, as tests/apps/service_test.sh makes them."""
    import random
    arch = tmp_path / "tiny.arch"
    arch.write_text("input 1 8 8\nconv 2 3 stride 2\nact\ndense 4\n")
    paths = []
    for m in range(members):
        random.seed(100 + m)
        l0, l1 = tmp_path / f"m{m}_l0.csv", tmp_path / f"m{m}_l1.csv"
        l0.write_text("\n".join(",".join(f"{random.uniform(-1, 1):.4f}" for _ in range(10)) for _ in range(2)))
        l1.write_text("\n".join(",".join(f"{random.uniform(-1, 1):.4f}" for _ in range(19)) for _ in range(4)))
        out = tmp_path / f"m{m}.hecnn"
        subprocess.run([HECNN, "model-import-csv", "--arch", str(arch), "--out", str(out), str(l0), str(l1)], check=True,
                       capture_output=True)
        paths.append(str(out))
    return paths


def test_service_client_equals_hecnn_client(tmp_path):
    """Two holders and a coordinator on loopback: the Python client's BFV scores equal `hecnn client`'s."""
    import random
    if not hecnn.service_supported:
        pytest.skip("package built without the service layer")
    models = tiny_models(tmp_path, 2)
    tokens = tmp_path / "tokens"
    tokens.write_text("client-token-0123456789ab\n")
    peer = "peer-token-0123456789abcdef"
    random.seed(7)
    pixels = bytes(random.randrange(256) for _ in range(6 * 64))
    pgms = []
    for i in range(6):
        p = tmp_path / f"img{i}.pgm"
        p.write_bytes(b"P5\n8 8\n255\n" + pixels[64 * i:64 * (i + 1)])
        pgms += ["--image", str(p)]
    procs = []
    try:
        ports = []
        for k, m in enumerate(models):
            log = str(tmp_path / f"holder{k}.log")
            h = subprocess.Popen([HECNN, "holder", "--model", m, "--listen", "127.0.0.1:0", "--port-file",
                                  free_port_file(tmp_path, f"holder{k}"), "--insecure-loopback", "--tokens", str(tokens),
                                  "--peer-token", peer], stderr=open(log, "w"))
            procs.append(h)
            ports.append(wait_port(free_port_file(tmp_path, f"holder{k}"), h, log))
        clog = str(tmp_path / "coord.log")
        coord = subprocess.Popen([HECNN, "coordinator", "--member", f"m0=127.0.0.1:{ports[0]}", "--member",
                                  f"m1=127.0.0.1:{ports[1]}", "--combiner", "mean", "--calibrate", "0", "--listen", "127.0.0.1:0",
                                  "--port-file", free_port_file(tmp_path, "coord"), "--insecure-loopback", "--tokens", str(tokens),
                                  "--peer-token", peer, "--deadline", "120"], stderr=open(clog, "w"))
        procs.append(coord)
        addr = f"127.0.0.1:{wait_port(free_port_file(tmp_path, 'coord'), coord, clog)}"
        with pytest.raises(RuntimeError):
            bad = hecnn.ServiceClient(addr, token="wrong-token-0000000000", insecure_loopback=True)
            bad.open("bfv", 6)
        with pytest.raises(ValueError, match="TLS CA"):  # no TLS and no insecure_loopback: refused
            hecnn.ServiceClient(addr, token="client-token-0123456789ab")
        c = hecnn.ServiceClient(addr, token="client-token-0123456789ab", insecure_loopback=True)
        c.open("bfv", 6)
        assert c.members == ["m0", "m1"]
        scores = c.infer(pixels)
        c.close()
        out = subprocess.run([HECNN, "client", "--coordinator", addr, "--token", "client-token-0123456789ab",
                              "--insecure-loopback", "--json"] + pgms, check=True, capture_output=True, text=True).stdout
        theirs = json.loads(out)["outputs"]
        assert len(scores) == len(theirs)
        for k, o in enumerate(theirs):
            assert scores[k].argmax(1).tolist() == o["predictions"]
            assert np.allclose(scores[k][:6].tolist(), o["scores_first_100"], rtol=0, atol=1e-9)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
