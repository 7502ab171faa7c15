"""The systems compared: Strata (generated code, library calls), numpy, PyTorch eager, ONNX
Runtime. Each `prepare_*` returns (callable taking the inputs, compile seconds), or None when the
system is not installed."""

from __future__ import annotations

import runpy
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

Model = dict  # {"kind": "matmul" | "mlp" | "conv_block" | "encoder" | "model", ...}


def set_threads(n: int) -> None:
    import os

    import strata

    # set_num_threads starts libomp, which reads KMP_BLOCKTIME then: without this, its workers
    # spin 200 ms after each parallel region and slow the library calls timed next
    os.environ.setdefault("KMP_BLOCKTIME", "1")
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


SEQ, D_MODEL, HEADS, D_FF = 128, 256, 4, 1024


def encoder_weights(seed: int = 0) -> dict[str, np.ndarray]:
    """Weights of one transformer encoder layer (post-norm, relu), in x @ W convention."""
    rng = np.random.default_rng(seed)

    def mat(i: int, o: int) -> np.ndarray:
        return (rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32)

    def vec(n: int, scale: float = 0.1) -> np.ndarray:
        return (rng.standard_normal(n) * scale).astype(np.float32)

    w = {f"w{n}": mat(D_MODEL, D_MODEL) for n in "qkvo"}
    w |= {f"b{n}": vec(D_MODEL) for n in "qkvo"}
    w |= {"w1": mat(D_MODEL, D_FF), "c1": vec(D_FF), "w2": mat(D_FF, D_MODEL), "c2": vec(D_MODEL)}
    w |= {"g1": 1 + vec(D_MODEL), "e1": vec(D_MODEL), "g2": 1 + vec(D_MODEL), "e2": vec(D_MODEL)}
    return w


def _numpy_layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * g + b


def numpy_encoder(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    dh = D_MODEL // HEADS

    def heads(t: np.ndarray) -> np.ndarray:
        return t.reshape(SEQ, HEADS, dh).transpose(1, 0, 2)

    q, k, v = (heads(x @ w[f"w{n}"] + w[f"b{n}"]) for n in "qkv")
    s = q @ k.transpose(0, 2, 1) * np.float32(1 / np.sqrt(dh))
    e = np.exp(s - s.max(-1, keepdims=True))
    o = (e / e.sum(-1, keepdims=True)) @ v
    a = o.transpose(1, 0, 2).reshape(SEQ, D_MODEL) @ w["wo"] + w["bo"]
    h = _numpy_layer_norm(x + a, w["g1"], w["e1"])
    f = np.maximum(h @ w["w1"] + w["c1"], 0) @ w["w2"] + w["c2"]
    return _numpy_layer_norm(h + f, w["g2"], w["e2"])


def _numpy_conv3x3(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NCHW 3x3 convolution with padding 1 (im2col through a strided view, one tensordot)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # n c h w 3 3
    return np.einsum("nchwij,ocij->nohw", windows, w, optimize=True)


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TORCH_KINDS = ("conv_block", "encoder", "model")  # imported from PyTorch through torch.export


def _graph(model: Model):
    import strata

    b = strata.GraphBuilder("main")
    if model["kind"] == "matmul":
        m, k, n = model["shape"]
        return b.finish(b.matmul(b.input((m, k)), b.input((k, n))))
    from strata.models.mlp import build_mlp

    return build_mlp(model["batch"], model["weights"])


def _import(model: Model):
    """The workload as a `graph` module: through the torch.export frontend for the blocks and
    models, from the GraphBuilder for sgemm and the MLP."""
    if model["kind"] not in TORCH_KINDS:
        return _graph(model)
    from strata.frontends.torch_export import from_torch

    module, example = torch_module(model)
    return from_torch(module, example)


def _adapt(model: Model, compiled):
    """The encoder block is benchmarked on a 2-D (seq, d) input; PyTorch's layer takes a batch."""
    if model["kind"] == "encoder":
        return lambda x: compiled(x[None])[0]
    return compiled


def prepare_strata(model: Model, threads: int, *, use_libcall: bool = False):
    import strata

    start = time.perf_counter()
    compiled = strata.compile(_import(model), use_libcall=use_libcall)
    return _adapt(model, compiled), time.perf_counter() - start


def prepare_strata_tuned(model: Model, threads: int, *, trials: int = 16):
    """Tune (seeded, `trials` schedules per tensor program) into a fresh database, then compile
    with it; the compile time reported includes tuning. Whole models are not tuned here."""
    import tempfile

    import strata
    from strata.tuning.tuner import tune

    if model["kind"] == "model":
        return None
    start = time.perf_counter()
    module = _import(model)
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/tuning.jsonl"
        tune(module, database=db, trials=trials, seed=0, progress=False)
        compiled = strata.compile(module, tuning_db=db)
    return _adapt(model, compiled), time.perf_counter() - start


def prepare_numpy(model: Model, threads: int):
    if model["kind"] == "model":
        return None
    if model["kind"] == "matmul":
        return (lambda a, b: a @ b), 0.0
    if model["kind"] == "encoder":
        return (lambda x: numpy_encoder(model["weights"], x)), 0.0
    if model["kind"] == "conv_block":
        w = model["weights"]

        def block(x: np.ndarray) -> np.ndarray:
            h = np.maximum(_numpy_conv3x3(x, w["w1"]) + w["b1"].reshape(1, 64, 1, 1), 0)
            return np.maximum(_numpy_conv3x3(h, w["w2"]) + w["b2"].reshape(1, 64, 1, 1), 0)

        return block, 0.0
    return model["weights"].reference, 0.0


def torch_module(model: Model):
    """(torch.nn.Module in eval mode, example inputs) of a conv block, encoder or example model."""
    import torch

    if model["kind"] == "model":
        namespace = runpy.run_path(str(EXAMPLES / f"{model['file']}.py"))
        return namespace["model"], tuple(namespace["example_inputs"])
    w = model["weights"]
    if model["kind"] == "encoder":
        layer = torch.nn.TransformerEncoderLayer(
            D_MODEL, HEADS, D_FF, dropout=0.0, batch_first=True, activation="relu"
        ).eval()
        with torch.no_grad():
            qkv = np.concatenate([w["wq"].T, w["wk"].T, w["wv"].T])
            layer.self_attn.in_proj_weight.copy_(torch.from_numpy(qkv))
            layer.self_attn.in_proj_bias.copy_(
                torch.from_numpy(np.concatenate([w["bq"], w["bk"], w["bv"]]))
            )
            layer.self_attn.out_proj.weight.copy_(torch.from_numpy(w["wo"].T.copy()))
            layer.self_attn.out_proj.bias.copy_(torch.from_numpy(w["bo"]))
            layer.linear1.weight.copy_(torch.from_numpy(w["w1"].T.copy()))
            layer.linear1.bias.copy_(torch.from_numpy(w["c1"]))
            layer.linear2.weight.copy_(torch.from_numpy(w["w2"].T.copy()))
            layer.linear2.bias.copy_(torch.from_numpy(w["c2"]))
            for k, norm in ((1, layer.norm1), (2, layer.norm2)):
                norm.weight.copy_(torch.from_numpy(w[f"g{k}"]))
                norm.bias.copy_(torch.from_numpy(w[f"e{k}"]))
        return layer, (torch.zeros(1, SEQ, D_MODEL),)
    convs = []
    for k in (1, 2):
        conv = torch.nn.Conv2d(64, 64, 3, padding=1)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w[f"w{k}"]))
            conv.bias.copy_(torch.from_numpy(w[f"b{k}"]))
        convs += [conv, torch.nn.ReLU()]
    return torch.nn.Sequential(*convs).eval(), (torch.zeros(1, 64, 56, 56),)


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
    if model["kind"] in TORCH_KINDS:
        module, _ = torch_module(model)
        batched = model["kind"] == "encoder"

        def run_module(x: np.ndarray):
            with torch.no_grad():
                y = module(torch.from_numpy(x)[None] if batched else torch.from_numpy(x))
            return y[0].numpy() if batched else y.numpy()

        return run_module, 0.0
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

    if model["kind"] == "model":
        return _onnx_export(model)

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
    elif model["kind"] == "encoder":
        nodes, inits = _onnx_encoder(model["weights"], helper, numpy_helper)
        inputs = [helper.make_tensor_value_info("x", f32, [SEQ, D_MODEL])]
        out = [helper.make_tensor_value_info("y", f32, [SEQ, D_MODEL])]
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


def _onnx_encoder(w: dict[str, np.ndarray], helper, numpy_helper):
    dh = D_MODEL // HEADS
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()]
    inits += [
        numpy_helper.from_array(np.array([SEQ, HEADS, dh], np.int64), "heads_shape"),
        numpy_helper.from_array(np.array([SEQ, D_MODEL], np.int64), "model_shape"),
        numpy_helper.from_array(np.array(1 / np.sqrt(dh), np.float32), "scale"),
    ]
    node = helper.make_node
    nodes = []
    for n in "qkv":
        nodes += [
            node("MatMul", ["x", f"w{n}"], [f"{n}0"]),
            node("Add", [f"{n}0", f"b{n}"], [f"{n}1"]),
            node("Reshape", [f"{n}1", "heads_shape"], [f"{n}2"]),
        ]
    nodes += [
        node("Transpose", ["q2"], ["q"], perm=[1, 0, 2]),
        node("Transpose", ["k2"], ["kt"], perm=[1, 2, 0]),
        node("Transpose", ["v2"], ["v"], perm=[1, 0, 2]),
        node("MatMul", ["q", "kt"], ["s0"]),
        node("Mul", ["s0", "scale"], ["s1"]),
        node("Softmax", ["s1"], ["p"], axis=-1),
        node("MatMul", ["p", "v"], ["o0"]),
        node("Transpose", ["o0"], ["o1"], perm=[1, 0, 2]),
        node("Reshape", ["o1", "model_shape"], ["o2"]),
        node("MatMul", ["o2", "wo"], ["a0"]),
        node("Add", ["a0", "bo"], ["a1"]),
        node("Add", ["x", "a1"], ["r1"]),
        node("LayerNormalization", ["r1", "g1", "e1"], ["h"], axis=-1, epsilon=1e-5),
        node("MatMul", ["h", "w1"], ["f0"]),
        node("Add", ["f0", "c1"], ["f1"]),
        node("Relu", ["f1"], ["f2"]),
        node("MatMul", ["f2", "w2"], ["f3"]),
        node("Add", ["f3", "c2"], ["f4"]),
        node("Add", ["h", "f4"], ["r2"]),
        node("LayerNormalization", ["r2", "g2", "e2"], ["y"], axis=-1, epsilon=1e-5),
    ]
    return nodes, inits


def _onnx_export(model: Model):
    """An example model exported by PyTorch's ONNX exporter (TorchScript-based, opset 17)."""
    import io

    import onnx
    import torch

    module, example = torch_module(model)
    buffer = io.BytesIO()
    torch.onnx.export(module, example, buffer, opset_version=17, dynamo=False)
    return onnx.load_from_string(buffer.getvalue())


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
