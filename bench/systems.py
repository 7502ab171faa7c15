"""The systems compared: Strata (generated code, library calls), numpy, PyTorch eager, ONNX
Runtime. Each `prepare_*` returns (callable taking the inputs, compile seconds), or None when the
system is not installed."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

Model = dict  # {"kind": "matmul" | "mlp", shapes..., "weights": [...]}


def set_threads(n: int) -> None:
    import strata

    strata.set_num_threads(n)
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def conv_block_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "w1": (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32),
        "b1": rng.standard_normal(64).astype(np.float32),
        "w2": (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32),
        "b2": rng.standard_normal(64).astype(np.float32),
    }


def _numpy_conv3x3(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NCHW 3x3 convolution with padding 1 (im2col through a strided view, one tensordot)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # n c h w 3 3
    return np.einsum("nchwij,ocij->nohw", windows, w, optimize=True)


def _graph(model: Model):
    import strata

    b = strata.GraphBuilder("main")
    if model["kind"] == "conv_block":
        w = model["weights"]

        def conv(x, k):
            bias = b.constant(w[f"b{k}"].reshape(1, 64, 1, 1), f"b{k}")
            return b.relu(b.add(b.conv2d(x, b.constant(w[f"w{k}"], f"w{k}"), padding=(1, 1)), bias))

        return b.finish(conv(conv(b.input((1, 64, 56, 56)), 1), 2))
    if model["kind"] == "matmul":
        m, k, n = model["shape"]
        return b.finish(b.matmul(b.input((m, k)), b.input((k, n))))
    from strata.models.mlp import build_mlp

    return build_mlp(model["batch"], model["weights"])


def prepare_strata(model: Model, threads: int, *, use_libcall: bool = False):
    import strata

    start = time.perf_counter()
    compiled = strata.compile(_graph(model), use_libcall=use_libcall)
    return compiled, time.perf_counter() - start


def prepare_strata_tuned(model: Model, threads: int, *, trials: int = 16):
    """Tune (seeded, `trials` schedules per tensor program) into a fresh database, then compile
    with it; the compile time reported includes tuning."""
    import tempfile

    import strata
    from strata.tuning.tuner import tune

    start = time.perf_counter()
    module = _graph(model)
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/tuning.jsonl"
        tune(module, database=db, trials=trials, seed=0, progress=False)
        compiled = strata.compile(module, tuning_db=db)
    return compiled, time.perf_counter() - start


def prepare_numpy(model: Model, threads: int):
    if model["kind"] == "matmul":
        return (lambda a, b: a @ b), 0.0
    if model["kind"] == "conv_block":
        w = model["weights"]

        def block(x: np.ndarray) -> np.ndarray:
            h = np.maximum(_numpy_conv3x3(x, w["w1"]) + w["b1"].reshape(1, 64, 1, 1), 0)
            return np.maximum(_numpy_conv3x3(h, w["w2"]) + w["b2"].reshape(1, 64, 1, 1), 0)

        return block, 0.0
    return model["weights"].reference, 0.0


def prepare_torch(model: Model, threads: int):
    try:
        import torch
    except ImportError:
        return None
    if model["kind"] == "matmul":

        def run(a: np.ndarray, b: np.ndarray):
            with torch.no_grad():
                return torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()

        return run, 0.0
    if model["kind"] == "conv_block":
        w = model["weights"]
        convs = []
        for k in (1, 2):
            conv = torch.nn.Conv2d(64, 64, 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(w[f"w{k}"]))
                conv.bias.copy_(torch.from_numpy(w[f"b{k}"]))
            convs += [conv, torch.nn.ReLU()]
        block = torch.nn.Sequential(*convs).eval()

        def run_block(x: np.ndarray):
            with torch.no_grad():
                return block(torch.from_numpy(x)).numpy()

        return run_block, 0.0
    w = model["weights"]
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(w.w0.T))
        net[0].bias.copy_(torch.from_numpy(w.b0))
        net[2].weight.copy_(torch.from_numpy(w.w1.T))
        net[2].bias.copy_(torch.from_numpy(w.b1))
    net.eval()

    def run_mlp(x: np.ndarray):
        with torch.no_grad():
            return net(torch.from_numpy(x)).numpy()

    return run_mlp, 0.0


def _onnx_model(model: Model):
    from onnx import TensorProto, helper, numpy_helper

    f32 = TensorProto.FLOAT
    if model["kind"] == "matmul":
        m, k, n = model["shape"]
        nodes = [helper.make_node("MatMul", ["a", "b"], ["y"])]
        inputs = [
            helper.make_tensor_value_info("a", f32, [m, k]),
            helper.make_tensor_value_info("b", f32, [k, n]),
        ]
        inits = []
        out = [helper.make_tensor_value_info("y", f32, [m, n])]
    elif model["kind"] == "conv_block":
        w = model["weights"]
        conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
        nodes = [
            helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], **conv),
            helper.make_node("Relu", ["c1"], ["r1"]),
            helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], **conv),
            helper.make_node("Relu", ["c2"], ["y"]),
        ]
        inputs = [helper.make_tensor_value_info("x", f32, [1, 64, 56, 56])]
        inits = [numpy_helper.from_array(w[n], n) for n in ("w1", "b1", "w2", "b2")]
        out = [helper.make_tensor_value_info("y", f32, [1, 64, 56, 56])]
    else:
        w = model["weights"]
        batch = model["batch"]
        nodes = [
            helper.make_node("Gemm", ["x", "w0", "b0"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Gemm", ["r", "w1", "b1"], ["y"]),
        ]
        inputs = [helper.make_tensor_value_info("x", f32, [batch, 784])]
        inits = [numpy_helper.from_array(getattr(w, n), n) for n in ("w0", "b0", "w1", "b1")]
        out = [helper.make_tensor_value_info("y", f32, [batch, 10])]
    graph = helper.make_graph(nodes, "bench", inputs, out, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def prepare_onnxruntime(model: Model, threads: int):
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    start = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        _onnx_model(model).SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [i.name for i in session.get_inputs()]
    compile_s = time.perf_counter() - start

    def run(*arrays: np.ndarray):
        return session.run(None, dict(zip(names, arrays)))[0]

    return run, compile_s


SYSTEMS: dict[str, Callable] = {
    "strata": prepare_strata,
    "strata tuned": prepare_strata_tuned,
    "strata libcall": lambda m, t: prepare_strata(m, t, use_libcall=True),
    "numpy": prepare_numpy,
    "pytorch": prepare_torch,
    "onnxruntime": prepare_onnxruntime,
}
