"""The PyTorch frontend (torch.export -> graph): per-op numerics against PyTorch, the example
models end to end, parameters as inputs, source locations, errors, fp16/bf16 import."""

from __future__ import annotations

import copy
import math
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import strata  # noqa: E402
from strata.diagnostics import CompileError  # noqa: E402
from strata.frontends.torch_export import (  # noqa: E402
    from_torch,
    parameter_arrays,
    parameter_names,
)
from strata.transforms.graph.verify import GraphVerifyPass  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
THIS = Path(__file__).resolve()


class Fn(nn.Module):
    """A module computing `fn(*inputs)`, so each case is one line."""

    def __init__(self, fn, *children: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.children_ = nn.ModuleList(children)

    def forward(self, *xs):
        return self.fn(*xs)


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    scale = max(float(np.abs(expected).max()), 1e-6)
    return float(np.abs(got.astype(np.float64) - expected).max()) / scale


def run_both(model: nn.Module, *inputs: torch.Tensor) -> list[tuple[np.ndarray, np.ndarray]]:
    compiled = strata.compile(model, inputs)
    with torch.no_grad():
        expected = model.eval()(*inputs)
    got = compiled(*[x.numpy() for x in inputs])
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected)
    return [(g, e.numpy().astype(np.float64)) for g, e in zip(got, expected)]


def check(model: nn.Module, *inputs: torch.Tensor, tol: float = 1e-4) -> None:
    for got, expected in run_both(model, *inputs):
        assert got.shape == expected.shape
        assert relative_error(got, expected) <= tol


def randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def positive(*shape: int) -> torch.Tensor:
    return torch.rand(*shape) + 0.5


torch.manual_seed(0)
_mask = torch.tril(torch.ones(6, 6)).bool()
_index = torch.tensor([3, 0, 2, 2])
_mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()

OPS = {
    # matrix products
    "mm": (Fn(lambda x, y: x @ y), randn(5, 7), randn(7, 3)),
    "bmm": (Fn(torch.bmm), randn(2, 5, 7), randn(2, 7, 3)),
    "matmul_broadcast": (Fn(lambda x, y: x @ y), randn(2, 3, 4, 5), randn(5, 6)),
    "linear": (nn.Linear(8, 4), randn(3, 8)),
    "linear_3d": (nn.Linear(8, 4), randn(2, 3, 8)),
    "linear_no_bias": (nn.Linear(8, 4, bias=False), randn(3, 8)),
    # elementwise binary, broadcasting and scalars
    "add": (Fn(lambda x, y: x + y), randn(3, 4), randn(4)),
    "add_alpha": (Fn(lambda x, y: torch.add(x, y, alpha=2.5)), randn(3, 4), randn(3, 4)),
    "sub": (Fn(lambda x, y: x - y), randn(3, 1), randn(1, 4)),
    "rsub_scalar": (Fn(lambda x: 1.5 - x), randn(3, 4)),
    "mul": (Fn(lambda x, y: x * y), randn(2, 3, 4), randn(3, 1)),
    "mul_scalar": (Fn(lambda x: x * 0.25 + 3), randn(3, 4)),
    "div": (Fn(lambda x, y: x / y), randn(3, 4), positive(3, 4)),
    "div_scalar": (Fn(lambda x: x / 3), randn(3, 4)),
    "pow_square": (Fn(lambda x: x**2), randn(3, 4)),
    "pow_scalar": (Fn(lambda x: x**1.7), positive(3, 4)),
    "pow_tensor": (Fn(torch.pow), positive(3, 4), randn(3, 4)),
    "pow_base": (Fn(lambda x: 2.0**x), randn(3, 4)),
    "maximum": (Fn(torch.maximum), randn(3, 4), randn(3, 4)),
    "minimum": (Fn(torch.minimum), randn(3, 4), randn(4)),
    "clamp": (Fn(lambda x: torch.clamp(x, -0.5, 0.7)), randn(3, 4)),
    "hardtanh": (nn.Hardtanh(), randn(3, 4)),
    "leaky_relu": (nn.LeakyReLU(0.1), randn(3, 4)),
    # elementwise unary
    "relu": (nn.ReLU(), randn(3, 4)),
    "sigmoid": (nn.Sigmoid(), randn(3, 4)),
    "tanh": (nn.Tanh(), randn(3, 4)),
    "exp": (Fn(torch.exp), randn(3, 4)),
    "log": (Fn(torch.log), positive(3, 4)),
    "sqrt": (Fn(torch.sqrt), positive(3, 4)),
    "rsqrt": (Fn(torch.rsqrt), positive(3, 4)),
    "neg": (Fn(torch.neg), randn(3, 4)),
    "abs": (Fn(torch.abs), randn(3, 4)),
    "erf": (Fn(torch.erf), randn(3, 4)),
    "reciprocal": (Fn(torch.reciprocal), positive(3, 4)),
    "silu": (nn.SiLU(), randn(3, 4)),
    "gelu": (nn.GELU(), randn(3, 4)),
    "gelu_tanh": (nn.GELU(approximate="tanh"), randn(3, 4)),
    # softmax and reductions
    "softmax": (nn.Softmax(dim=-1), randn(3, 5)),
    "softmax_dim1": (nn.Softmax(dim=1), randn(2, 5, 3)),
    "log_softmax": (nn.LogSoftmax(dim=-1), randn(3, 5)),
    "sum_dim": (Fn(lambda x: x.sum(dim=(0, 2))), randn(3, 4, 5)),
    "sum_keepdim": (Fn(lambda x: x.sum(-1, keepdim=True)), randn(3, 4)),
    "sum_all": (Fn(lambda x: x.sum().reshape(1)), randn(3, 4)),
    "mean": (Fn(lambda x: x.mean(1)), randn(3, 4, 5)),
    "amax": (Fn(lambda x: torch.amax(x, dim=-1)), randn(3, 4)),
    "max_dim": (Fn(lambda x: x.max(dim=1).values), randn(3, 4, 5)),
    "min_dim": (Fn(lambda x: x.min(dim=-1, keepdim=True).values), randn(3, 4)),
    "var": (Fn(lambda x: x.var(-1, keepdim=True)), randn(3, 8)),
    # normalization
    "layer_norm": (nn.LayerNorm(8), randn(2, 3, 8)),
    "layer_norm_no_affine": (nn.LayerNorm([3, 8], elementwise_affine=False), randn(2, 3, 8)),
    "batch_norm": (nn.BatchNorm2d(3), randn(2, 3, 5, 5)),
    "batch_norm_1d": (nn.BatchNorm1d(4), randn(5, 4)),
    # convolution and pooling
    "conv2d": (nn.Conv2d(3, 4, 3, padding=1), randn(1, 3, 8, 8)),
    "conv2d_strided_grouped": (
        nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
        randn(2, 4, 9, 9),
    ),
    "conv1d": (nn.Conv1d(3, 5, 3, padding=1), randn(2, 3, 10)),
    "max_pool2d": (nn.MaxPool2d(3, 2, 1), randn(1, 2, 9, 9)),
    "max_pool2d_ceil": (nn.MaxPool2d(2, 2, ceil_mode=True), randn(1, 2, 7, 7)),
    "avg_pool2d": (nn.AvgPool2d(2), randn(1, 2, 8, 8)),
    "avg_pool2d_pad": (nn.AvgPool2d(3, 2, 1, count_include_pad=False), randn(1, 2, 7, 7)),
    "adaptive_avg_pool2d": (nn.AdaptiveAvgPool2d((2, 3)), randn(1, 2, 7, 9)),
    "global_avg_pool": (nn.AdaptiveAvgPool2d(1), randn(1, 3, 5, 5)),
    # data movement
    "flatten": (nn.Flatten(), randn(2, 3, 4)),
    "unsqueeze_squeeze": (Fn(lambda x: x.unsqueeze(1).squeeze(0) + 1), randn(1, 4)),
    "permute": (Fn(lambda x: x.permute(2, 0, 1) * 2), randn(2, 3, 4)),
    "transpose": (Fn(lambda x: x.transpose(-1, 0) + 1), randn(2, 3, 4)),
    "t": (Fn(lambda x: x.t() + 1), randn(3, 4)),
    "expand": (Fn(lambda x: x.expand(3, 2, 4) + 0), randn(2, 1)),
    "slice": (Fn(lambda x: x[:, 1:5]), randn(3, 8)),
    "slice_step_negative": (Fn(lambda x: x[..., -6::2] + x[:, :, -3:]), randn(2, 6, 6)),
    "select": (Fn(lambda x: x[:, 2] + x[-1]), randn(4, 4)),
    "split": (Fn(lambda x: x.split([2, 3], dim=1)[1] * 2), randn(2, 5)),
    "chunk": (Fn(lambda x: torch.stack(x.chunk(2, -1)[::-1], 0)), randn(2, 6)),
    "unbind": (Fn(lambda x: x.unbind(1)[2] + 1), randn(2, 3, 4)),
    "cat": (Fn(lambda x, y: torch.cat([x, y, x], dim=1)), randn(2, 3), randn(2, 4)),
    "identity_ops": (
        Fn(lambda x: F.dropout(x.contiguous().clone().detach(), 0.3, training=False) * 1),
        randn(3, 4),
    ),
    "dropout_module": (nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), randn(2, 4)),
    "two_outputs": (Fn(lambda x: (x + 1, (x * 2).sum(0))), randn(3, 4)),
    # indexing
    "index_select": (Fn(lambda x: torch.index_select(x, 1, _index)), randn(3, 5)),
    "index_tensor": (Fn(lambda x: x[:, _index]), randn(3, 5)),
    "masked_fill": (Fn(lambda x: x.masked_fill(~_mask, float("-inf")).softmax(-1)), randn(6, 6)),
    # attention
    "sdpa": (
        Fn(F.scaled_dot_product_attention),
        randn(1, 2, 6, 4),
        randn(1, 2, 6, 4),
        randn(1, 2, 6, 4),
    ),
    "sdpa_causal_scale": (
        Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3)),
        randn(2, 6, 4),
        randn(2, 6, 4),
        randn(2, 6, 5),
    ),
    "sdpa_bool_mask": (
        Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_mask)),
        randn(1, 2, 6, 4),
        randn(1, 2, 6, 4),
        randn(1, 2, 6, 4),
    ),
    "sdpa_float_mask": (
        Fn(F.scaled_dot_product_attention),
        *(randn(2, 6, 4) for _ in range(3)),
        randn(6, 6),
    ),
    "multihead_attention": (
        Fn(lambda x: _mha(x, x, x, need_weights=False)[0], _mha),
        randn(2, 5, 8),
    ),
}


@pytest.mark.parametrize("case", list(OPS))
def test_op(case: str) -> None:
    model, *inputs = OPS[case]
    check(model, *inputs)


def test_embedding_with_integer_ids() -> None:
    model = nn.Sequential(nn.Embedding(50, 8), nn.LayerNorm(8))
    ids = torch.randint(0, 50, (2, 7))
    check(model, ids)
    assert "tensor<2x7xi64>" in str(from_torch(model, (ids,)).operation.regions[0].blocks[0])


class TinyLM(nn.Module):
    """Token and position embeddings, causal attention, a head tied to the token embedding."""

    def __init__(self, vocab: int = 40, d: int = 16, context: int = 8) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.qkv, self.ln = nn.Linear(d, 3 * d), nn.LayerNorm(d)
        self.register_buffer("causal", torch.tril(torch.ones(context, context)))

    def forward(self, ids):
        t = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(t))
        q, k, v = self.qkv(self.ln(x)).split(x.shape[-1], dim=-1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        att = att.masked_fill(self.causal[:t, :t] == 0, float("-inf")).softmax(-1)
        return (x + att @ v) @ self.wte.weight.t()


def test_language_model_with_integer_ids() -> None:
    check(TinyLM().eval(), torch.randint(0, 40, (2, 6)))


def test_folded_constants() -> None:
    """arange, full and weight permutes depend on no input: evaluated at import, not emitted."""
    lin = nn.Linear(6, 6)
    model = Fn(lambda x: lin(x) + torch.arange(6.0) * torch.full((6,), 0.5), lin)
    check(model, randn(2, 6))
    text = str(from_torch(model, (randn(2, 6),)))
    assert "graph.transpose" not in text
    assert text.count("graph.constant") == 3  # the permuted weight, the bias, the folded term


@pytest.mark.parametrize(
    "fn,shape,copies",
    [
        (lambda x: x.transpose(0, 1).transpose(0, 1) + 1, (3, 4), []),
        (lambda x: x.unsqueeze(0).transpose(0, 1) + 1, (3, 4), ["reshape"]),
        (lambda x: x.view(2, 3, 4).transpose(0, 1).reshape(1, 3, 2, 4) + 1, (6, 4), None),
        (lambda x: x.view(2, 3, 4).transpose(0, 1).unsqueeze(0).flatten(0, 1) * 2, (6, 4), None),
    ],
)
def test_layout_copies_are_merged(fn, shape, copies) -> None:
    """Chains of views and transposes become at most one reshape and one transpose (imported as
    written; graph-canonicalize merges them)."""
    model, x = Fn(fn), randn(*shape)
    check(model, x)
    module = from_torch(model, (x,))
    strata.Pipeline.parse("graph-canonicalize,graph-dce").run(module)
    text = str(module)
    found = re.findall(r"graph\.(reshape|transpose)", text)
    assert found == copies if copies is not None else sorted(found) == ["reshape", "transpose"]


# -- the example models --------------------------------------------------------------------------


def load_example(name: str) -> tuple[nn.Module, tuple]:
    namespace = runpy.run_path(str(EXAMPLES / f"{name}.py"))
    return namespace["model"], namespace["example_inputs"]


@pytest.fixture(scope="module", params=["mlp", "resnet18", "transformer", "gpt2_block"])
def example(request):
    model, inputs = load_example(request.param)
    return request.param, model, inputs, strata.compile(model, inputs)


def test_example_model(example) -> None:
    name, model, inputs, compiled = example
    x = [torch.randn_like(t) for t in inputs]
    with torch.no_grad():
        expected = model(*x).numpy()
    assert relative_error(compiled(*[t.numpy() for t in x]), expected) <= 1e-4


# -- parameters as inputs ----------------------------------------------------------------------


def test_params_as_inputs_round_trip() -> None:
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(27, 4))
    model.eval()
    x = randn(1, 2, 5, 5)
    module = from_torch(model, (x,), params_as_inputs=True)
    names = parameter_names(module)
    expected_names = [n for n, _ in model.named_parameters()] + [
        n for n, _ in model.named_buffers() if not n.endswith("num_batches_tracked")
    ]
    assert sorted(names) == sorted(expected_names)
    assert "graph.constant" not in str(module)
    compiled = strata.compile(module)
    arrays = parameter_arrays(module, model)
    assert [a.shape for a in arrays] == [tuple(dict(model.state_dict())[n].shape) for n in names]
    with torch.no_grad():
        expected = model(x).numpy()
    assert relative_error(compiled(x.numpy(), *arrays), expected) <= 1e-4
    # New weights take effect without recompiling.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
        expected = model(x).numpy()
    assert relative_error(compiled(x.numpy(), *parameter_arrays(module, model)), expected) <= 1e-4


# -- locations and errors ----------------------------------------------------------------------


def line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_ops_are_located_at_the_model_source() -> None:
    model, inputs = load_example("mlp")
    module = from_torch(model, inputs)
    locations = {op.name: str(op.location) for op in module.body.operations[0].regions[0].blocks[0]}
    line = line_of(EXAMPLES / "mlp.py", "self.linear1(torch.relu(")
    assert re.fullmatch(rf'loc\("addmm_1"\("[^"]*mlp.py":{line}:9\)\)', locations["graph.matmul"])
    assert re.fullmatch(rf'loc\("relu"\("[^"]*mlp.py":{line}:9\)\)', locations["graph.relu"])
    forward = line_of(EXAMPLES / "mlp.py", "def forward")
    assert re.fullmatch(rf'loc\("output"\("[^"]*mlp.py":{forward}:5\)\)', locations["func.return"])


class Unsupported(nn.Module):
    def forward(self, x):
        y = torch.cumsum(x, dim=-1)
        z = torch.fft.rfft(x).real
        return torch.relu(y[..., :5]) + z


def test_every_unsupported_op_is_listed_with_its_line() -> None:
    with pytest.raises(CompileError) as info:
        from_torch(Unsupported(), (randn(2, 8),))
    message = str(info.value)
    cumsum = line_of(THIS, "torch.cumsum(x, dim=-1)")
    fft = line_of(THIS, "torch.fft.rfft(x).real")
    assert re.search(rf"{THIS}:{cumsum}:9: error: unsupported op 'aten.cumsum.default'", message)
    assert re.search(rf"{THIS}:{fft}:9: error: unsupported op 'aten._fft_r2c.default'", message)
    assert all(d.file == str(THIS) for d in info.value.diagnostics)
    assert "relu" not in message


def test_unsupported_op_fails_strata_compile_before_lowering() -> None:
    with pytest.raises(CompileError, match="aten.cumsum.default"):
        strata.compile(Unsupported(), (randn(2, 8),))


def test_constant_only_unsupported_ops_are_folded() -> None:
    """cumsum of a buffer needs no lowering: it is evaluated at import."""
    model = Fn(lambda x: x + torch.cumsum(torch.ones(4), 0))
    check(model, randn(3, 4))


@pytest.mark.parametrize(
    "model,inputs,pattern",
    [
        (nn.MaxPool2d(4, 4, ceil_mode=True), (randn(1, 1, 5, 5),), "ceil_mode=True needs padding"),
        (nn.AvgPool2d(2, ceil_mode=True), (randn(1, 1, 5, 5),), "avg_pool2d with ceil_mode"),
        (nn.ConvTranspose2d(2, 2, 3), (randn(1, 2, 5, 5),), "transposed convolution"),
        (Fn(lambda x: x * 2), (randn(2, 4).double(),), "unsupported dtype float64"),
        (
            Fn(lambda q: F.scaled_dot_product_attention(q, q, q, dropout_p=0.1)),
            (randn(1, 4, 8),),
            "dropout_p=0.1 is random",
        ),
        (Fn(lambda x: x.half() * 2), (randn(2, 4),), "dtype conversion from float32 to float16"),
        (Fn(lambda x: torch.where(x > 0, x, 0.0)), (randn(2, 4),), "condition known at compile"),
        (Fn(lambda x: x.max(dim=-1).indices.float()), (randn(2, 4),), "result 1 of"),
    ],
)
def test_unsupported_arguments_are_located(model, inputs, pattern) -> None:
    with pytest.raises(CompileError, match=pattern) as info:
        from_torch(model, inputs)
    assert all(d.line > 0 for d in info.value.diagnostics)


def test_export_failure_is_a_compile_error() -> None:
    def branchy(x):
        return x + 1 if x.sum() > 0 else x - 1

    with pytest.raises(CompileError, match="torch.export failed"):
        from_torch(Fn(branchy), (randn(3),))


def test_example_inputs_must_be_tensors() -> None:
    with pytest.raises(TypeError, match="example input 0 must be a torch.Tensor"):
        from_torch(nn.ReLU(), (3,))


# -- reduced precision ---------------------------------------------------------------------------


def small_cnn() -> tuple[nn.Module, tuple]:
    """The ResNet stem and head (conv, batch norm, max pool, global pool, linear), smaller."""
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    )
    return model.eval(), (randn(1, 3, 16, 16),)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["mlp", "small_cnn", "gpt2_block"])
def test_reduced_precision_models_import_and_verify(name: str, dtype: str) -> None:
    model, inputs = small_cnn() if name == "small_cnn" else load_example(name)
    torch_dtype = getattr(torch, dtype)
    model = copy.deepcopy(model).to(torch_dtype)
    module = from_torch(model, tuple(x.to(torch_dtype) for x in inputs))
    GraphVerifyPass().run(module.operation)
    element = {"float16": "f16", "bfloat16": "bf16"}[dtype]
    assert f"x{element}>" in str(module.operation.regions[0].blocks[0].operations[0].type)


def test_bf16_weights_keep_their_bits() -> None:
    model = nn.Linear(3, 2).to(torch.bfloat16)
    text = from_torch(model, (randn(1, 3).to(torch.bfloat16),)).operation.get_asm()
    blob = re.search(r'bias: "0x([0-9A-F]+)"', text).group(1)[8:]  # after the alignment word
    bits = model.bias.detach().view(torch.int16).numpy().astype("<u2").tobytes().hex().upper()
    assert blob == bits


# -- import cost -------------------------------------------------------------------------------


def test_importing_strata_does_not_import_torch() -> None:
    code = (
        "import strata, strata.frontends.torch_export, strata.compiler, sys; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
