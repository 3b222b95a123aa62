"""hecnn: private inference for convolutional networks over homomorphic encryption.

The whole workflow in Python, on hecnn's C++ core (the module ``hecnn._hecnn``)::

    import hecnn
    model = hecnn.load("models/cryptonets-x2-mnist.hecnn")   # or import_onnx / from_torch
    plan = hecnn.compile(model, scheme="bfv")                 # parameters, quantization, keys
    print(plan.report())
    client = hecnn.Client(plan)                               # the secret key stays here
    server = hecnn.Server(plan, client.evaluation_keys())     # public evaluation keys only
    images, labels = hecnn.load_dataset("mnist", count=256)   # uint8 [n, 1, 28, 28]
    scores = client.decrypt(server.evaluate(client.encrypt(images)))
    predictions = scores[0].argmax(axis=1)                    # scores[output][image][class]

Images are uint8 pixels (0..255), ``[n, c, h, w]`` or ``[n, h, w]`` or a flat buffer; any object
with the buffer protocol works (NumPy arrays, bytes). Results are NumPy arrays when NumPy is
importable, nested lists otherwise. Errors: ``ValueError`` for bad arguments, malformed files and
models the compiler refuses, with the C++ message.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

from . import _hecnn

__all__ = [
    "Model", "Plan", "Client", "Server", "load", "import_onnx", "from_torch", "compile", "load_plan",
    "load_dataset", "read_image", "onnx_supported", "ServiceClient", "service_supported",
]
__version__ = "0.1.0"

try:  # NumPy is optional: Debian's python3 has it (python3-numpy), other interpreters may not.
    import numpy as _np
except ImportError:  # pragma: no cover - exercised on interpreters without NumPy
    _np = None

Model = _hecnn.Model
Plan = _hecnn.Plan
EvaluationKeys = _hecnn.EvaluationKeys
EncryptedBatch = _hecnn.EncryptedBatch
EncryptedResult = _hecnn.EncryptedResult
onnx_supported = _hecnn.onnx_supported
service_supported = bool(_hecnn.service_supported)


def _array(x: Any) -> Any:
    return _np.asarray(x) if _np is not None else x


def _pixels(images: Any) -> Any:
    """A C-contiguous uint8 buffer of the images."""
    if _np is not None and not isinstance(images, (bytes, bytearray, memoryview)):
        a = _np.asarray(images)
        if a.dtype != _np.uint8:
            if a.size and (a.min() < 0 or a.max() > 255 or not _np.all(a == _np.round(a))):
                raise ValueError("images: expected whole pixel values 0..255 (uint8)")
            a = a.astype(_np.uint8)
        return _np.ascontiguousarray(a)
    return images


def load(path: Union[str, os.PathLike]) -> Model:
    """A hecnn model file (.hecnn)."""
    return _hecnn.load_model(os.fspath(path))


def import_onnx(path: Union[str, os.PathLike], input_scale: float = 1.0 / 255, input_offset: float = 0.0,
                name: str = "", dataset: str = "mnist") -> Model:
    """An ONNX graph as PyTorch / Keras-to-ONNX export it (see docs/model-format.md).

    Raw pixels p become the graph's input p * input_scale + input_offset.
    """
    m = _hecnn.import_onnx(os.fspath(path), input_scale, input_offset)
    m.set_meta(name or os.path.splitext(os.path.basename(os.fspath(path)))[0], dataset)
    return m


def from_torch(module: Any, input_shape: Sequence[int] = (1, 28, 28), input_scale: float = 1.0 / 255,
               input_offset: float = 0.0, name: str = "torch", dataset: str = "mnist") -> Model:
    """A ``torch.nn.Module`` (eval mode is used), through ``torch.onnx.export``.

    The module must use the layers hecnn runs encrypted (conv, linear, average pooling,
    batch norm, polynomial activations such as ``x * x``).
    """
    import torch  # only needed here

    was_training = module.training
    module.eval()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, name + ".onnx")
            torch.onnx.export(module, torch.zeros(1, *input_shape), path, input_names=["image"],
                              output_names=["scores"], dynamic_axes={"image": {0: "batch"}, "scores": {0: "batch"}},
                              training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
            return import_onnx(path, input_scale, input_offset, name=name, dataset=dataset)
    finally:
        module.train(was_training)


def compile(models: Union[Model, Sequence[Model]], scheme: str = "bfv", *, batch: int = 0, poly_degree: int = 0,
            agreement_target: float = 0.999, calibrate: int = 512, combiners: Sequence[str] = (),
            weights: Sequence[float] = (), dataset: str = "", input_bits: int = 0, weight_bits: int = 0,
            coeff_bits: int = 0, log: Optional[Callable[[str], None]] = None) -> Plan:
    """Compiles one model or an ensemble into an immutable plan (what ``hecnn infer`` runs).

    scheme: "bfv" (exact) or "ckks". batch: images expected (parameter choice; 0: a full
    batch). BFV chooses its quantization bits so that the quantized model agrees with the float
    model on ``agreement_target`` of the training images (0: fixed defaults); CKKS calibrates its
    ranges on ``calibrate`` training images. dataset: the training images' dataset ("" = the
    model's; "none" = without training images). combiners: for ensembles, "mean", "weighted",
    "poly-softmax", "normalized", "stacked" (the last three fitted on the last 5,000 training
    images, docs/combiners.md). log: called with the quantization search's progress lines.
    """
    ms = [models] if isinstance(models, Model) else list(models)
    return _hecnn.compile(ms, scheme, batch, poly_degree, agreement_target, calibrate, list(combiners),
                          list(weights), dataset, input_bits, weight_bits, coeff_bits, log)


def load_plan(path: Union[str, os.PathLike]) -> Plan:
    """A plan written by ``Plan.save`` or ``hecnn infer --save-plan``."""
    return _hecnn.load_plan(os.fspath(path))


class Client:
    """Holds the secret key: encrypts images, decrypts scores. Keys come from the OS CSPRNG."""

    def __init__(self, plan: Plan) -> None:
        self._c = _hecnn.Client(plan)
        self.plan = plan

    @property
    def batch_capacity(self) -> int:
        """Images one encrypted batch holds."""
        return self._c.batch_capacity

    def evaluation_keys(self) -> EvaluationKeys:
        """Public keys for the server (no secret material)."""
        return self._c.evaluation_keys()

    def encrypt(self, images: Any) -> EncryptedBatch:
        """Encrypts uint8 images ([n, c, h, w], [n, h, w] or flat; n <= batch_capacity)."""
        return self._c.encrypt(_pixels(images))

    def serialize_input(self, batch: EncryptedBatch) -> List[List[bytes]]:
        """The batch as SEAL 4.x ciphertexts ([residue][element]), what a client uploads."""
        return self._c.serialize_input(batch)

    def decrypt(self, result: EncryptedResult) -> Any:
        """Scores [output][image][class] in real units (output 0: the model or the combiner)."""
        return _array(self._c.decrypt(result))


class Server:
    """Runs a plan on encrypted batches with the client's public evaluation keys."""

    def __init__(self, plan: Plan, keys: EvaluationKeys) -> None:
        self._s = _hecnn.Server(plan, keys)

    def evaluate(self, batch: EncryptedBatch) -> EncryptedResult:
        return self._s.evaluate(batch)


class ServiceClient:
    """The client of a hecnn coordinator (``hecnn coordinator``, docs/protocol.md) over gRPC.

    Fetches the public plan, makes the keys (the secret key never leaves this object), uploads
    the evaluation keys once per session, then encrypts, sends and decrypts::

        c = hecnn.ServiceClient("127.0.0.1:7000", token="...", tls_ca="ca.pem")
        c.open("bfv", batch_images=256)
        scores = c.infer(images)          # [output][image][class]

    Without TLS only loopback addresses are allowed, and only with ``insecure_loopback=True``
    (ValueError otherwise). Network, token and protocol errors raise RuntimeError naming the
    failing step.
    """

    def __init__(self, address: str, token: str = "", tls_ca: str = "", insecure_loopback: bool = False,
                 deadline_s: float = 600.0) -> None:
        if not service_supported:
            raise RuntimeError("this hecnn package was built without the service layer (gRPC)")
        self._c = _hecnn.ServiceClient(address, token, tls_ca, insecure_loopback, deadline_s)

    def open(self, scheme: str = "bfv", batch_images: int = 0, mode: str = "batch") -> None:
        """Plan, keys and session: mode "batch" or "single" (CKKS, low latency)."""
        self._c.open(scheme, batch_images, mode)

    @property
    def members(self) -> List[str]:
        return list(self._c.members)

    @property
    def output_names(self) -> List[str]:
        return list(self._c.output_names)

    @property
    def images_per_request(self) -> int:
        return self._c.images_per_request

    def infer(self, images: Any) -> Any:
        """Scores [output][image][class] of uint8 images (at most images_per_request)."""
        return _array(self._c.infer(_pixels(images)))

    def close(self) -> None:
        self._c.close()


def load_dataset(name: str = "mnist", train: bool = False, offset: int = 0, count: int = 0) -> Tuple[Any, Any]:
    """(images uint8 [n, c, h, w], labels uint8 [n]) of a dataset hecnn knows (data/ or HECNN_DATA_DIR)."""
    px, labels, n, c, h, w = _hecnn.load_dataset(name, train, offset, count)
    if _np is None:
        return px, list(labels)
    return _np.frombuffer(px, dtype=_np.uint8).reshape(n, c, h, w), _np.frombuffer(labels, dtype=_np.uint8)


def read_image(path: Union[str, os.PathLike], preprocess: str = "auto") -> Any:
    """A PNG / JPEG / PGM file as a uint8 [1, 28, 28] MNIST-style image (docs/inference.md).

    preprocess: "auto" (a 28x28 PGM as it is, anything else converted the way MNIST was made),
    "mnist" (always converted) or "none" (as it is).
    """
    px, h, w = _hecnn.read_image(os.fspath(path), preprocess)
    if _np is None:
        return px
    return _np.frombuffer(px, dtype=_np.uint8).reshape(1, h, w)


def _forward(self: Model, images: Any) -> Any:
    """Plaintext reference scores (double precision) of uint8 images: [image][class]."""
    return _array(self.forward_raw(_pixels(images)))


Model.forward = _forward  # type: ignore[attr-defined]
