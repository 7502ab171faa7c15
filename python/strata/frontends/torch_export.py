"""PyTorch -> `graph` through `torch.export` and the core ATen op set.

`from_torch` exports a module, decomposes it to core ATen (keeping
`scaled_dot_product_attention`, which is decomposed here without the NaN guards of the stock
decomposition), evaluates with torch itself every node whose inputs are all compile-time
constants, and translates the other nodes with `GraphBuilder`. Each op is located at the user's
source line. Every unsupported op is reported in one error before anything is translated.
torch is imported inside the functions: `import strata` does not import it.
"""

from __future__ import annotations

import inspect
import linecache
import math
import operator
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError, Diagnostic, file_line_col
from strata.frontends.builder import GraphBuilder
from strata.irutil import lookup_function

PARAMETER_ATTR = "strata.parameter"  # argument attribute: the FQN of a parameter input
_FLOATS = {"torch.float32": "f32", "torch.float16": "f16", "torch.bfloat16": "bf16"}
_INTS = {"torch.int32": "i32", "torch.int64": "i64"}
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')

Node = Any  # torch.fx.Node (torch is imported lazily)
Args = dict[str, Any]


def from_torch(
    module: Any,
    example_inputs: Sequence[Any],
    *,
    params_as_inputs: bool = False,
    name: str = "main",
) -> ir.Module:
    """A `graph` module computing `module(*example_inputs)` for inputs of the same shapes.

    Parameters, buffers and lifted constants become `graph.constant`s (resource blobs). With
    `params_as_inputs=True`, parameters and buffers are function arguments instead: the user
    inputs come first, then the parameters and buffers in the order `parameter_names` gives
    (each argument carries its name in the `strata.parameter` attribute).

    >>> module = from_torch(model, (x,), params_as_inputs=True)
    >>> cm = strata.compile(module)
    >>> y = cm(x.numpy(), *parameter_arrays(module, model))
    """
    import torch

    args = tuple(_as_tensor(torch, x, i) for i, x in enumerate(example_inputs))
    importer = _Importer(torch, _export(torch, module, args), params_as_inputs, name)
    forward = _forward_location(module)
    if forward is not None and not os.path.abspath(forward[0]).startswith(importer.torch_dir):
        importer.forward = forward  # a torch.nn container's forward is no help to the user
    return importer.run()


def parameter_names(module: ir.Module | ir.Operation, name: str = "main") -> list[str]:
    """The FQNs of the parameter and buffer arguments of function `name`, in argument order
    (they follow the user inputs), for a module made with `params_as_inputs=True`."""
    fn = lookup_function(module.operation, name)
    if fn is None:
        raise ValueError(f"the module has no function '{name}'")
    if "arg_attrs" not in fn.attributes:
        return []
    names = []
    for attrs in ir.ArrayAttr(fn.attributes["arg_attrs"]):
        d = ir.DictAttr(attrs)
        if PARAMETER_ATTR in d:
            names.append(ir.StringAttr(d[PARAMETER_ATTR]).value)
    return names


def parameter_arrays(
    module: ir.Module | ir.Operation, torch_module: Any, name: str = "main"
) -> list[np.ndarray]:
    """The numpy arrays to pass after the user inputs to a module made with
    `params_as_inputs=True` (bf16 tensors come as their uint16 bits)."""
    tensors = dict(torch_module.named_parameters(remove_duplicate=False))
    tensors.update(torch_module.named_buffers(remove_duplicate=False))
    arrays = []
    for fqn in parameter_names(module, name):
        if fqn not in tensors:
            raise KeyError(f"the torch module has no parameter or buffer '{fqn}'")
        arrays.append(_to_numpy(tensors[fqn])[0])
    return arrays


def _export(torch: Any, module: Any, args: tuple[Any, ...]) -> Any:
    """The exported program in core ATen, scaled_dot_product_attention kept whole (its core
    decomposition guards fully masked rows with where/any/logical_not)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)
            exported = torch.export.export(module.eval(), args)
            table = torch.export.default_decompositions()
            table.pop(torch.ops.aten.scaled_dot_product_attention.default, None)
            return exported.run_decompositions(table)
    except Exception as e:  # torch.export raises many types; all mean "cannot export"
        summary = str(e).strip().split("\n\n")[0]
        raise CompileError(f"torch.export failed: {type(e).__name__}: {summary}") from None


def _as_tensor(torch: Any, x: Any, i: int) -> Any:
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"example input {i} must be a torch.Tensor, not {type(x).__name__}")
    return x


def _to_numpy(tensor: Any) -> tuple[np.ndarray, str | None]:
    """A copy of `tensor` as numpy, with the builder's dtype override for bf16."""
    import torch

    t = tensor.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16).copy(), "bf16"
    return t.numpy().copy(), None


# -- locations ---------------------------------------------------------------------------------


def _source_location(node: Node, torch_dir: str, context: ir.Context) -> ir.Location:
    """The innermost frame of the node's stack trace outside torch (else the innermost one),
    wrapped in a name location with the FX node's name."""
    frames = _FRAME.findall(node.meta.get("stack_trace") or "")
    user = [f for f in frames if not os.path.abspath(f[0]).startswith(torch_dir)]
    picked = (user or frames)[-1:] if frames else []
    child = ir.Location.unknown(context)
    for file, line in picked:
        child = _file_location(file, int(line), context)
    return ir.Location.name(node.name, childLoc=child, context=context)


def _file_location(file: str, line: int, context: ir.Context) -> ir.Location:
    """file:line, at the column where the statement starts."""
    source = linecache.getline(file, line)
    col = len(source) - len(source.lstrip()) + 1 if source.strip() else 1
    return ir.Location.file(file, line, col, context=context)


def _forward_location(module: Any) -> tuple[str, int] | None:
    """The file and line of `def forward`: where inputs and results are located."""
    try:
        forward = type(module).forward
        return inspect.getsourcefile(forward) or "", inspect.getsourcelines(forward)[1]
    except (TypeError, OSError):
        return None


class _LocatedBuilder(GraphBuilder):
    """A GraphBuilder whose ops take `self.location` (the FX node being translated)."""

    location: ir.Location | None = None

    def _location(self) -> ir.Location:
        return self.location if self.location is not None else super()._location()


# -- the op table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    convert: Callable[[_Importer, Node, Args], Any]
    check: Callable[[_Importer, Node, Args], str | None] | None = None
    index_args: tuple[str, ...] = ()  # arguments holding integer index tensors
    free_args: tuple[str, ...] = ()  # arguments whose dtype `check` handles
    results: str = "one"  # "first": a tuple of which only result 0 is supported; "all"


_OPS: dict[str, _Op] = {}


def _op(*names: str, **fields: Any) -> Callable:
    def add(fn: Callable) -> Callable:
        for name in names:
            _OPS[name] = _Op(fn, **fields)
        return fn

    return add


class _Parts:
    """The results of a multi-result op, built on first use (by getitem)."""

    def __init__(self, build: Callable[[int], ir.Value]):
        self._build = build
        self._built: dict[int, ir.Value] = {}

    def __getitem__(self, i: int) -> ir.Value:
        if i not in self._built:
            self._built[i] = self._build(i)
        return self._built[i]


# -- the importer ------------------------------------------------------------------------------


class _Importer:
    def __init__(self, torch: Any, exported: Any, params_as_inputs: bool, name: str):
        self.torch = torch
        self.ep = exported
        self.graph = exported.graph
        self.params_as_inputs = params_as_inputs
        self.b = _LocatedBuilder(name)
        self.torch_dir = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
        self.consts: dict[Node, Any] = {}  # node -> compile-time value (a tensor, or a tuple)
        self.values: dict[Node, Any] = {}  # node -> ir.Value or _Parts
        self._emitted: dict[tuple[Any, str], ir.Value] = {}
        self._names: dict[Node, str] = {}  # constant placeholder -> FQN (resource name)
        self._param_inputs: list[tuple[Node, str]] = []
        self._user_inputs: list[Node] = []
        self.forward: tuple[str, int] | None = None  # `def forward`, set by from_torch

    # Helpers for the op conversions.
    def loc(self, node: Node) -> ir.Location:
        """Where `node` is in the user's code (inputs and results: at `def forward`)."""
        traced = _FRAME.search(node.meta.get("stack_trace") or "")
        if not traced and self.forward is not None:
            child = _file_location(*self.forward, self.b.context)
            return ir.Location.name(node.name, childLoc=child, context=self.b.context)
        return _source_location(node, self.torch_dir, self.b.context)

    def meta(self, node: Node) -> Any:
        return node.meta["val"]

    def shape(self, node: Node) -> list[int]:
        return [int(d) for d in self.meta(node).shape]

    def dtype(self, node: Node) -> Any:
        return self.meta(node).dtype

    def is_const(self, arg: Any) -> bool:
        return not isinstance(arg, self.torch.fx.Node) or arg in self.consts

    def const(self, arg: Node) -> Any:
        """The compile-time value of a constant node (a tensor)."""
        return self.consts[arg]

    def constant(self, tensor: Any, name: str) -> ir.Value:
        """A `graph.constant` holding `tensor`."""
        if str(tensor.dtype) not in _FLOATS and str(tensor.dtype) not in _INTS:
            raise CompileError(
                f"constant '{name}' has dtype {tensor.dtype}; graph constants are f32, f16, "
                "bf16, i32 or i64",
                self.b.location,
            )
        array, dtype = _to_numpy(tensor)
        return self.b.constant(array, name, dtype=dtype)

    def value(self, arg: Any, dtype: Any = None) -> ir.Value:
        """The IR value of an argument: a translated node, a constant node (emitted on first
        use, converted to `dtype` if given) or a Python number (a constant of `dtype`)."""
        torch = self.torch
        if not isinstance(arg, torch.fx.Node):
            if dtype is None:
                raise CompileError(f"internal: scalar {arg!r} without a dtype", self.b.location)
            key: tuple[Any, str] = (arg, str(dtype))
            if key not in self._emitted:
                self._emitted[key] = self.constant(torch.tensor([arg], dtype=dtype), "scalar")
            return self._emitted[key]
        if arg not in self.consts:
            return self.values[arg]
        tensor = self.consts[arg]
        if dtype is not None and tensor.dtype != dtype:
            tensor = tensor.to(dtype)
        key = (arg, str(tensor.dtype))
        if key not in self._emitted:
            self._emitted[key] = self.constant(tensor, self._names.get(arg, arg.name))
        return self._emitted[key]

    def reshaped(self, arg: Node, shape: Sequence[int]) -> ir.Value:
        """`arg` in `shape`: reshaped at import time when constant."""
        if arg in self.consts:
            return self.constant(self.consts[arg].reshape(shape), arg.name)
        return _reshape_value(self, self.value(arg), list(shape))

    def scalar(self, value: float, like: Node) -> ir.Value:
        return self.value(value, self.dtype(like))

    # The import.
    def run(self) -> ir.Module:
        nodes = list(self.graph.nodes)
        live = self._live(nodes)
        self._classify_placeholders()
        for node in nodes:
            if node.op == "call_function" and all(a in self.consts for a in node.all_input_nodes):
                self.consts[node] = None  # marked; evaluated in order below
        problems = self._check([n for n in nodes if n in live])
        if problems:
            raise CompileError(problems[0].message, diagnostics=problems)
        self._declare_inputs()
        outputs: list[ir.Value] = []
        for node in nodes:
            if node not in live or node.op == "placeholder":
                continue
            self.b.location = self.loc(node)
            if node.op == "output":
                outputs = [self._fit(self.value(a), a) for a in self._user_outputs(node)]
            elif node in self.consts:
                self.consts[node] = self._evaluate(node)
            else:
                self.values[node] = self._convert(node)
        self.b.location = self.loc(nodes[-1])
        module = self.b.finish(*outputs)
        if self.params_as_inputs:
            self._name_parameter_arguments(module)
        return module

    def _live(self, nodes: list[Node]) -> set[Node]:
        live: set[Node] = set()
        for node in reversed(nodes):
            if node.op == "output" or any(u in live for u in node.users):
                live.add(node)
        return live

    def _classify_placeholders(self) -> None:
        InputKind = self.torch.export.graph_signature.InputKind
        placeholders = {n.name: n for n in self.graph.nodes if n.op == "placeholder"}
        for spec in self.ep.graph_signature.input_specs:
            node = placeholders[spec.arg.name]
            if spec.kind == InputKind.USER_INPUT:
                self._user_inputs.append(node)
            elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER) and self.params_as_inputs:
                if node.users:  # unused ones (num_batches_tracked) are left out
                    self._param_inputs.append((node, spec.target))
            elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
                if spec.target in self.ep.state_dict:
                    self.consts[node] = self.ep.state_dict[spec.target]
                else:
                    self.consts[node] = self.ep.constants[spec.target]
                self._names[node] = spec.target
            else:
                raise CompileError(f"unsupported exported input '{spec.arg.name}' ({spec.kind})")

    def _declare_inputs(self) -> None:
        for node in self._user_inputs:
            self._declare(node)
        for node, _ in self._param_inputs:
            self._declare(node)

    def _declare(self, node: Node) -> None:
        meta = self.meta(node)
        element = {**_FLOATS, **_INTS}[str(meta.dtype)]  # checked in _check
        self.b.location = self.loc(node)
        self.values[node] = self.b.input([int(d) for d in meta.shape], element)

    def _name_parameter_arguments(self, module: ir.Module) -> None:
        fn = lookup_function(module.operation, self.b.name)
        assert fn is not None
        ctx = self.b.context
        attrs = [ir.DictAttr.get({}, context=ctx) for _ in self._user_inputs]
        for _, fqn in self._param_inputs:
            attrs.append(
                ir.DictAttr.get({PARAMETER_ATTR: ir.StringAttr.get(fqn, context=ctx)}, context=ctx)
            )
        fn.attributes["arg_attrs"] = ir.ArrayAttr.get(attrs, context=ctx)

    def _user_outputs(self, node: Node) -> list[Any]:
        OutputKind = self.torch.export.graph_signature.OutputKind
        flat = list(self.torch.utils._pytree.tree_leaves(node.args[0]))
        specs = self.ep.graph_signature.output_specs
        return [a for a, s in zip(flat, specs) if s.kind == OutputKind.USER_OUTPUT]

    def _evaluate(self, node: Node) -> Any:
        torch = self.torch
        args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: self.consts[n])
        try:
            with torch.no_grad():
                return node.target(*args, **kwargs)
        except Exception as e:
            raise CompileError(
                f"cannot evaluate constant '{node.target}' at import time: {e}", self.b.location
            ) from None

    def _convert(self, node: Node) -> Any:
        if node.target is operator.getitem:
            producer, index = node.args
            return self._fit(self.values[producer][index], node)
        result = _OPS[str(node.target)].convert(self, node, _arguments(node))
        return result if isinstance(result, _Parts) else self._fit(result, node)

    def _fit(self, value: ir.Value, node: Any) -> ir.Value:
        """`value` with the node's shape: conversions may build an equivalent shape (a scalar
        constant is 1-D); a different element count is an importer bug."""
        expected = self.shape(node)
        found = _shape_of(value)
        if found == expected:
            return value
        if math.prod(found) != math.prod(expected):
            raise CompileError(
                f"internal: '{node.target}' built shape {found}, expected {expected}",
                self.b.location,
            )
        return _reshape_value(self, value, expected)

    # Checks, all before translating.
    def _check(self, nodes: list[Node]) -> list[Diagnostic]:
        problems: list[Diagnostic] = []

        def report(node: Node, message: str) -> None:
            file, line, col = file_line_col(self.loc(node))
            diagnostic = Diagnostic("error", message, file, line, col)
            if diagnostic not in problems:  # e.g. one line called in a loop
                problems.append(diagnostic)

        for node in self._user_inputs + [n for n, _ in self._param_inputs]:
            dtype = str(self.dtype(node))
            if dtype not in _FLOATS and dtype not in _INTS:
                report(node, f"input '{node.name}' has unsupported dtype {dtype[6:]}; {_DTYPES}")
        for node in nodes:
            if node.op == "call_function":
                message = self._check_node(node)
                if message:
                    report(node, message)
            elif node.op == "output":
                for arg in self._user_outputs(node):
                    if not isinstance(arg, self.torch.fx.Node) or not hasattr(
                        self.meta(arg), "dtype"
                    ):
                        report(node, f"model outputs must be tensors, found {arg!r}")
                if len(self._user_outputs(node)) != len(self.ep.graph_signature.output_specs):
                    report(node, "the model updates its inputs or buffers in place")
            elif node.op != "placeholder":
                report(node, f"unsupported exported node '{node.op}' ({node.target})")
        return problems

    def _check_node(self, node: Node) -> str | None:
        torch = self.torch
        target = node.target
        if node in self.consts:
            if isinstance(target, torch._ops.OpOverload) and torch.Tag.nondeterministic_seeded in (
                target.tags
            ):
                return f"random op '{target}' is not supported: it would be frozen at import"
            return None
        if target is operator.getitem:
            producer, index = node.args
            op = _OPS.get(str(producer.target))
            if op is not None and op.results == "first" and index != 0:
                return f"result {index} of '{producer.target}' is not supported (only the first)"
            return None
        op = _OPS.get(str(target))
        if op is None:
            fn = node.meta.get("torch_fn")
            caller = fn[1].rsplit(".", 1)[-1] if fn else "_"
            origin = "" if caller.startswith("_") else f" (from {caller})"
            return f"unsupported op '{target}'{origin}"
        args = _arguments(node)
        if op.check is not None:
            message = op.check(self, node, args)
            if message:
                return message
        results = self.meta(node)
        results = results if isinstance(results, (list, tuple)) else [results]
        results = results[:1] if op.results == "first" else results
        out_dtype = results[0].dtype
        for r in results:
            if str(r.dtype) not in _FLOATS:
                return f"'{target}' computes {str(r.dtype)[6:]} tensors; {_DTYPES}"
        for name, value in args.items():
            if name in op.free_args:
                continue
            for arg in _iter_nodes(value):
                if not isinstance(arg, torch.fx.Node) or arg in self.consts:
                    continue
                dtype = self.dtype(arg)
                if name in op.index_args:
                    if str(dtype) not in _INTS:
                        return f"'{target}' needs int32 or int64 indices, found {str(dtype)[6:]}"
                elif dtype != out_dtype:
                    return (
                        f"'{target}' mixes dtypes: operand '{name}' is {str(dtype)[6:]}, the "
                        f"result {str(out_dtype)[6:]}; graph ops have no type conversion"
                    )
        return None


_DTYPES = "graph ops compute on float32, float16 and bfloat16 tensors (indices: int32, int64)"


def _arguments(node: Node) -> Args:
    """The node's arguments by schema name, defaults filled in."""
    out: Args = {}
    for i, a in enumerate(node.target._schema.arguments):
        if i < len(node.args):
            out[a.name] = node.args[i]
        elif a.name in node.kwargs:
            out[a.name] = node.kwargs[a.name]
        else:
            out[a.name] = a.default_value if a.has_default_value() else None
    return out


def _shape_of(value: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(value.type).shape)


def _axis(axis: int, rank: int) -> int:
    return axis % rank if rank else 0


def _axes(dims: Any, rank: int) -> list[int]:
    """Reduction dims (None or [] = all) as sorted non-negative axes."""
    if dims is None or (isinstance(dims, (list, tuple)) and not dims):
        return list(range(rank))
    dims = [dims] if isinstance(dims, int) else dims
    return sorted({_axis(d, rank) for d in dims})


def _pair(value: Any) -> list[int]:
    values = [value] if isinstance(value, int) else list(value)
    return values * 2 if len(values) == 1 else values


def _iter_nodes(value: Any) -> Iterator[Any]:
    """The elements of a list argument, or the argument itself."""
    yield from value if isinstance(value, (list, tuple)) else [value]


# -- elementwise -------------------------------------------------------------------------------

for _name in (
    "relu",
    "sigmoid",
    "tanh",
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "neg",
    "abs",
    "erf",
    "silu",
):
    _op(f"aten.{_name}.default")(lambda im, node, a, _g=_name: im.b.unary(_g, im.value(a["self"])))


@_op("aten.gelu.default")
def _gelu(im: _Importer, node: Node, a: Args) -> ir.Value:
    return im.b.gelu(im.value(a["self"]), approximate=a["approximate"])


def _binary_op(graph_op: str, lhs_name: str = "self", rhs_name: str = "other") -> Callable:
    def convert(im: _Importer, node: Node, a: Args) -> ir.Value:
        dtype = im.dtype(node)
        lhs, rhs = im.value(a[lhs_name], dtype), im.value(a[rhs_name], dtype)
        alpha = a.get("alpha")
        if alpha is not None and alpha != 1:
            rhs = im.b.mul(rhs, im.scalar(alpha, node))
        return im.b.binary(graph_op, lhs, rhs)

    return convert


_op("aten.add.Tensor", "aten.add.Scalar")(_binary_op("add"))
_op("aten.sub.Tensor", "aten.sub.Scalar")(_binary_op("sub"))
_op("aten.mul.Tensor", "aten.mul.Scalar")(_binary_op("mul"))
_op("aten.div.Tensor", "aten.div.Scalar")(_binary_op("div"))
_op("aten.maximum.default")(_binary_op("maximum"))
_op("aten.minimum.default")(_binary_op("minimum"))
_op("aten.pow.Tensor_Tensor")(_binary_op("pow", "self", "exponent"))
_op("aten.pow.Scalar")(_binary_op("pow", "self", "exponent"))


def _rounding_mode(im: _Importer, node: Node, a: Args) -> str | None:
    if a["rounding_mode"] is not None:
        return f"division with rounding_mode='{a['rounding_mode']}' is not supported"
    return None


_op("aten.div.Tensor_mode", check=_rounding_mode)(_binary_op("div"))


@_op("aten.pow.Tensor_Scalar")
def _pow_scalar(im: _Importer, node: Node, a: Args) -> ir.Value:
    x, exponent = im.value(a["self"]), a["exponent"]
    if exponent == 1:
        return x
    if exponent == 2:
        return im.b.mul(x, x)
    if exponent == 0.5:
        return im.b.sqrt(x)
    if exponent == -0.5:
        return im.b.rsqrt(x)
    return im.b.pow(x, im.scalar(exponent, node))


@_op("aten.reciprocal.default")
def _reciprocal(im: _Importer, node: Node, a: Args) -> ir.Value:
    return im.b.div(im.scalar(1.0, node), im.value(a["self"]))


@_op("aten.clamp.default", "aten.hardtanh.default")
def _clamp(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    low = a.get("min", a.get("min_val"))
    high = a.get("max", a.get("max_val"))
    if low is not None:
        x = im.b.maximum(x, im.scalar(low, node))
    if high is not None:
        x = im.b.minimum(x, im.scalar(high, node))
    return x


@_op("aten.leaky_relu.default")
def _leaky_relu(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    negative = im.b.mul(im.b.minimum(x, im.scalar(0.0, node)), im.scalar(a["negative_slope"], node))
    return im.b.add(im.b.relu(x), negative)


def _constant_condition(im: _Importer, node: Node, a: Args) -> str | None:
    if not im.is_const(a["condition"]):
        return "torch.where needs a condition known at compile time (a mask built from constants)"
    return None


@_op("aten.where.self", check=_constant_condition, free_args=("condition",))
def _where(im: _Importer, node: Node, a: Args) -> ir.Value:
    """where(c, x, y) with a constant c, as x * c + y * (1 - c) (a constant branch is folded
    into the added term). Exact while the non-constant branches are finite."""
    torch = im.torch
    dtype = im.dtype(node)
    cond = im.const(a["condition"]).to(torch.bool)
    total = None
    for branch, take in ((a["self"], cond), (a["other"], ~cond)):
        if im.is_const(branch):
            value = im.const(branch) if isinstance(branch, torch.fx.Node) else branch
            fill = torch.where(
                take, torch.as_tensor(value, dtype=dtype), torch.zeros((), dtype=dtype)
            )
            term = None if not fill.any() else im.constant(fill, "where_fill")
        elif bool(take.all()):
            term = im.value(branch)
        else:
            term = im.b.mul(im.value(branch), im.constant(take.to(dtype), "where_mask"))
        if term is not None:
            total = term if total is None else im.b.add(total, term)
    if total is None:
        return im.constant(torch.zeros(im.shape(node), dtype=dtype), "zeros")
    return total


# -- identity and layout -----------------------------------------------------------------------


def _no_training(im: _Importer, node: Node, a: Args) -> str | None:
    if a.get("train"):
        return "dropout in training mode is random; call model.eval()"
    return None


@_op(
    "aten.alias.default",
    "aten.detach.default",
    "aten.clone.default",
    "aten.contiguous.default",
    "aten.lift_fresh_copy.default",
    "aten.dropout.default",
    check=_no_training,
)
def _identity(im: _Importer, node: Node, a: Args) -> ir.Value:
    return im.value(a.get("self", a.get("input")))


def _same_dtype(im: _Importer, node: Node, a: Args) -> str | None:
    source, target = im.dtype(a["self"]), im.dtype(node)
    if source != target:
        return f"dtype conversion from {str(source)[6:]} to {str(target)[6:]} is not supported"
    return None


_op("aten._to_copy.default", check=_same_dtype)(_identity)


@_op(
    "aten.view.default",
    "aten._unsafe_view.default",
    "aten.reshape.default",
    "aten.view_copy.default",
    "aten.flatten.using_ints",
    "aten.unflatten.int",
    "aten.unsqueeze.default",
    "aten.squeeze.default",
    "aten.squeeze.dim",
    "aten.squeeze.dims",
)
def _reshape(im: _Importer, node: Node, a: Args) -> ir.Value:
    return im.value(a["self"])  # `_fit` reshapes to the node's shape


def _reshape_value(im: _Importer, x: ir.Value, shape: list[int]) -> ir.Value:
    """`x` in `shape` (graph-canonicalize merges the chains of views models write)."""
    return x if _shape_of(x) == shape else im.b.reshape(x, shape)


def _transpose_value(im: _Importer, x: ir.Value, permutation: list[int]) -> ir.Value:
    if permutation == list(range(len(permutation))):
        return x
    return im.b.transpose(x, permutation)


@_op("aten.permute.default")
def _permute(im: _Importer, node: Node, a: Args) -> ir.Value:
    rank = len(im.shape(node))
    return _transpose_value(im, im.value(a["self"]), [_axis(d, rank) for d in a["dims"]])


@_op("aten.transpose.int", "aten.t.default")
def _transpose(im: _Importer, node: Node, a: Args) -> ir.Value:
    rank = len(im.shape(node))
    permutation = list(range(rank))
    if rank >= 2:
        d0, d1 = _axis(a.get("dim0", 0), rank), _axis(a.get("dim1", 1), rank)
        permutation[d0], permutation[d1] = permutation[d1], permutation[d0]
    return _transpose_value(im, im.value(a["self"]), permutation)


@_op("aten.expand.default", "aten.expand_copy.default")
def _expand(im: _Importer, node: Node, a: Args) -> ir.Value:
    x, shape = im.value(a["self"]), im.shape(node)
    return x if _shape_of(x) == shape else im.b.broadcast_to(x, shape)


# -- slicing and joining -----------------------------------------------------------------------


def _slice_value(im: _Importer, x: ir.Value, dim: int, start: int, size: int, step: int = 1):
    shape = _shape_of(x)
    if start == 0 and size == shape[dim] and step == 1:
        return x
    offsets, sizes, strides = [0] * len(shape), list(shape), [1] * len(shape)
    offsets[dim], sizes[dim], strides[dim] = start, size, step
    return im.b.slice(x, offsets, sizes, strides)


def _nonempty(im: _Importer, node: Node, a: Args) -> str | None:
    if 0 in im.shape(node):
        return "slicing to an empty tensor is not supported"
    return None


@_op("aten.slice.Tensor", "aten.slice_copy.Tensor", check=_nonempty)
def _slice(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    rank = len(_shape_of(x))
    dim = _axis(a["dim"], rank)
    n = _shape_of(x)[dim]
    start = a["start"] or 0
    start = min(max(start + n if start < 0 else start, 0), n)
    return _slice_value(im, x, dim, start, im.shape(node)[dim], a["step"])


@_op("aten.select.int")
def _select(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    dim = _axis(a["dim"], len(_shape_of(x)))
    index = a["index"] % _shape_of(x)[dim]
    return _slice_value(im, x, dim, index, 1)  # `_fit` drops the dimension


def _split(im: _Importer, node: Node, a: Args) -> _Parts:
    """split / split_with_sizes / unbind / chunk: result i is a slice along `dim`."""
    x = im.value(a["self"])
    rank = len(_shape_of(x))
    dim = _axis(a["dim"], rank)
    squeeze = str(node.target).startswith("aten.unbind")
    sizes = [1 if squeeze else int(r.shape[dim]) for r in im.meta(node)]
    offsets = [sum(sizes[:i]) for i in range(len(sizes))]
    return _Parts(lambda i: _slice_value(im, x, dim, offsets[i], sizes[i]))


_op(
    "aten.split.Tensor",
    "aten.split_with_sizes.default",
    "aten.unbind.int",
    "aten.chunk.default",
    results="all",
)(_split)


@_op("aten.cat.default")
def _cat(im: _Importer, node: Node, a: Args) -> ir.Value:
    rank = len(im.shape(node))
    dim = _axis(a["dim"], rank)
    values = [im.value(t, im.dtype(node)) for t in a["tensors"] if 0 not in im.shape(t)]
    return im.b.concat(values, dim)


# -- indexing ----------------------------------------------------------------------------------


@_op("aten.embedding.default", index_args=("indices",))
def _embedding(im: _Importer, node: Node, a: Args) -> ir.Value:
    return im.b.gather(im.value(a["weight"]), im.value(a["indices"]), axis=0)


@_op("aten.index_select.default", index_args=("index",))
def _index_select(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    dim = _axis(a["dim"], len(_shape_of(x)))
    return im.b.gather(x, im.value(a["index"]), axis=dim)


def _one_index(im: _Importer, node: Node, a: Args) -> str | None:
    given = [i for i, t in enumerate(a["indices"]) if t is not None]
    if len(given) != 1:
        return "indexing with several index tensors is not supported (use one, e.g. x[:, idx])"
    index = a["indices"][given[0]]
    if str(im.dtype(index)) not in _INTS:
        return f"indexing with a {str(im.dtype(index))[6:]} mask is not supported"
    return None


@_op("aten.index.Tensor", check=_one_index, index_args=("indices",))
def _index(im: _Importer, node: Node, a: Args) -> ir.Value:
    (axis,) = [i for i, t in enumerate(a["indices"]) if t is not None]
    return im.b.gather(im.value(a["self"]), im.value(a["indices"][axis]), axis=axis)


# -- matrix products and convolution -----------------------------------------------------------


@_op("aten.mm.default", "aten.bmm.default", "aten.matmul.default")
def _matmul(im: _Importer, node: Node, a: Args) -> ir.Value:
    return im.b.matmul(im.value(a["self"]), im.value(a.get("mat2", a.get("other"))))


@_op("aten.addmm.default")
def _addmm(im: _Importer, node: Node, a: Args) -> ir.Value:
    product = im.b.matmul(im.value(a["mat1"]), im.value(a["mat2"]))
    if a["alpha"] != 1:
        product = im.b.mul(product, im.scalar(a["alpha"], node))
    if a["beta"] == 0:
        return product
    bias = im.value(a["self"])
    if a["beta"] != 1:
        bias = im.b.mul(bias, im.scalar(a["beta"], node))
    return im.b.add(product, bias)


def _conv_check(im: _Importer, node: Node, a: Args) -> str | None:
    if a["transposed"]:
        return "transposed convolution (ConvTranspose) is not supported"
    rank = len(im.shape(a["input"]))
    if rank not in (3, 4):
        return f"only 1-D and 2-D convolutions are supported, found a {rank - 2}-D one"
    return None


@_op("aten.convolution.default", check=_conv_check)
def _convolution(im: _Importer, node: Node, a: Args) -> ir.Value:
    x_shape, w_shape = im.shape(a["input"]), im.shape(a["weight"])
    stride, padding, dilation = list(a["stride"]), list(a["padding"]), list(a["dilation"])
    if len(x_shape) == 3:  # 1-D: a 2-D convolution over height 1
        x = im.reshaped(a["input"], [x_shape[0], x_shape[1], 1, x_shape[2]])
        w = im.reshaped(a["weight"], [w_shape[0], w_shape[1], 1, w_shape[2]])
        stride, padding, dilation = [1, *stride], [0, *padding], [1, *dilation]
    else:
        x, w = im.value(a["input"]), im.value(a["weight"])
    y = im.b.conv2d(x, w, strides=stride, padding=padding, dilation=dilation, groups=a["groups"])
    if a["bias"] is not None:
        y = im.b.add(y, im.reshaped(a["bias"], [w_shape[0], 1, 1]))
    return y


# -- normalization, softmax, reductions --------------------------------------------------------


def _param_or_fill(im: _Importer, like: Node, arg: Any, shape: list[int], fill: float):
    """An optional affine parameter, or a constant `fill` when the module has none."""
    if arg is not None:
        return im.value(arg)
    return im.constant(
        im.torch.full(shape, fill, dtype=im.dtype(like)), "ones" if fill else "zeros"
    )


@_op("aten._native_batch_norm_legit_no_training.default", results="first")
def _batch_norm(im: _Importer, node: Node, a: Args) -> _Parts:
    channels = [im.shape(a["input"])[1]]

    def build(i: int) -> ir.Value:
        w = _param_or_fill(im, a["input"], a["weight"], channels, 1.0)
        b = _param_or_fill(im, a["input"], a["bias"], channels, 0.0)
        x, mean, var = (im.value(a[k]) for k in ("input", "running_mean", "running_var"))
        return im.b.batch_norm(x, w, b, mean, var, epsilon=a["eps"])

    return _Parts(build)


@_op("aten.native_layer_norm.default", results="first")
def _layer_norm(im: _Importer, node: Node, a: Args) -> _Parts:
    shape = list(a["normalized_shape"])

    def build(i: int) -> ir.Value:
        w = _param_or_fill(im, a["input"], a["weight"], shape, 1.0)
        b = _param_or_fill(im, a["input"], a["bias"], shape, 0.0)
        return im.b.layer_norm(im.value(a["input"]), w, b, epsilon=a["eps"])

    return _Parts(build)


def _no_half_to_float(im: _Importer, node: Node, a: Args) -> str | None:
    if a["half_to_float"]:
        return "softmax with half_to_float=True is not supported"
    return None


@_op("aten._softmax.default", check=_no_half_to_float)
def _softmax(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    return im.b.softmax(x, axis=_axis(a["dim"], len(_shape_of(x))))


@_op("aten._log_softmax.default", check=_no_half_to_float)
def _log_softmax(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    return im.b.log_softmax(x, axis=_axis(a["dim"], len(_shape_of(x))))


def _reduce(kind: str) -> Callable:
    def convert(im: _Importer, node: Node, a: Args) -> ir.Value:
        x = im.value(a["self"])
        axes = _axes(a.get("dim"), len(_shape_of(x)))
        return im.b.reduce(kind, x, axes, keepdim=bool(a.get("keepdim")))

    return convert


def _no_dtype(im: _Importer, node: Node, a: Args) -> str | None:
    if a.get("dtype") is not None and a["dtype"] != im.dtype(a["self"]):
        return f"a reduction accumulating in {str(a['dtype'])[6:]} is not supported"
    return None


_op("aten.sum.dim_IntList", "aten.sum.default", check=_no_dtype)(_reduce("sum"))
_op("aten.mean.dim", "aten.mean.default", check=_no_dtype)(_reduce("mean"))
_op("aten.amax.default", "aten.max.default")(_reduce("max"))


@_op("aten.amin.default", "aten.min.default")
def _amin(im: _Importer, node: Node, a: Args) -> ir.Value:
    """min as -max(-x)."""
    x = im.b.neg(im.value(a["self"]))
    axes = _axes(a.get("dim"), len(_shape_of(x)))
    return im.b.neg(im.b.reduce("max", x, axes, keepdim=bool(a.get("keepdim"))))


@_op("aten.max.dim", "aten.min.dim", results="first")
def _max_dim(im: _Importer, node: Node, a: Args) -> _Parts:
    convert = _amin if str(node.target).startswith("aten.min") else _reduce("max")
    return _Parts(lambda i: convert(im, node, a))


@_op("aten.var.correction", "aten.var.dim")
def _var(im: _Importer, node: Node, a: Args) -> ir.Value:
    x = im.value(a["self"])
    shape = _shape_of(x)
    axes = _axes(a["dim"], len(shape))
    correction = a.get("correction")
    if correction is None:
        correction = 1 if a.get("unbiased", True) else 0
    count = math.prod(shape[d] for d in axes)
    centered = im.b.sub(x, im.b.reduce("mean", x, axes, keepdim=True))
    total = im.b.reduce("sum", im.b.mul(centered, centered), axes, keepdim=bool(a["keepdim"]))
    return im.b.div(total, im.scalar(max(count - correction, 0), node))


# -- pooling -----------------------------------------------------------------------------------


def _window(im: _Importer, node: Node, a: Args, out_shape: list[int]) -> tuple[list[int], ...]:
    """kernel, strides, dilation and (top, left, bottom, right) padding giving `out_shape`:
    ceil_mode extends the bottom/right padding."""
    kernel = _pair(a["kernel_size"])
    strides = _pair(a["stride"]) if a["stride"] else kernel
    padding = _pair(a["padding"])
    dilation = _pair(a.get("dilation", 1))
    size = im.shape(a["self"])[-2:]
    pads = [padding[0], padding[1], padding[0], padding[1]]
    for d in range(2):
        span = (out_shape[-2 + d] - 1) * strides[d] + dilation[d] * (kernel[d] - 1) + 1
        pads[2 + d] = max(padding[d], span - size[d] - padding[d])
    return kernel, strides, dilation, pads


def _pool_check(im: _Importer, node: Node, a: Args) -> str | None:
    if len(im.shape(a["self"])) != 4:
        return "pooling is supported on N x C x H x W inputs only"
    out = im.meta(node)
    out = out[0] if isinstance(out, (list, tuple)) else out
    kernel, _, _, pads = _window(im, node, a, [int(d) for d in out.shape])
    is_max = "max" in str(node.target)
    padding = _pair(a["padding"])
    if pads[2:] != padding and not is_max:
        return "avg_pool2d with ceil_mode=True adding a partial window is not supported"
    if any(2 * p > k for p, k in zip(pads[2:], kernel)):
        return (
            f"max_pool2d with ceil_mode=True needs padding {pads[2:]} at the bottom/right, more "
            f"than half the kernel {kernel}; this cannot be expressed"
        )
    if a.get("divisor_override") is not None:
        return "avg_pool2d with divisor_override is not supported"
    return None


def _max_pool(im: _Importer, node: Node, a: Args) -> ir.Value:
    out = im.meta(node)
    out = out[0] if isinstance(out, (list, tuple)) else out
    kernel, strides, dilation, pads = _window(im, node, a, [int(d) for d in out.shape])
    return im.b.max_pool2d(im.value(a["self"]), kernel, strides, pads, dilation)


@_op("aten.max_pool2d_with_indices.default", check=_pool_check, results="first")
def _max_pool_with_indices(im: _Importer, node: Node, a: Args) -> _Parts:
    return _Parts(lambda i: _max_pool(im, node, a))


_op("aten.max_pool2d.default", check=_pool_check)(_max_pool)


@_op("aten.avg_pool2d.default", check=_pool_check)
def _avg_pool(im: _Importer, node: Node, a: Args) -> ir.Value:
    kernel, strides, _, pads = _window(im, node, a, im.shape(node))
    return im.b.avg_pool2d(
        im.value(a["self"]), kernel, strides, pads, count_include_pad=a["count_include_pad"]
    )


def _batched(im: _Importer, node: Node, a: Args) -> str | None:
    if len(im.shape(a["self"])) != 4:
        return "adaptive_avg_pool2d is supported on N x C x H x W inputs only"
    return None


@_op("aten._adaptive_avg_pool2d.default", "aten.adaptive_avg_pool2d.default", check=_batched)
def _adaptive_avg_pool(im: _Importer, node: Node, a: Args) -> ir.Value:
    return im.b.adaptive_avg_pool2d(im.value(a["self"]), im.shape(node)[-2:])


# -- attention ---------------------------------------------------------------------------------


def _sdpa_check(im: _Importer, node: Node, a: Args) -> str | None:
    if a["dropout_p"]:
        return (
            f"scaled_dot_product_attention with dropout_p={a['dropout_p']} is random even in "
            "eval mode; pass dropout_p=0.0 when not training"
        )
    if a["enable_gqa"] and im.shape(a["query"])[-3] != im.shape(a["key"])[-3]:
        return "grouped-query attention (enable_gqa with fewer key heads) is not supported"
    mask = a["attn_mask"]
    if mask is not None and not im.is_const(mask) and im.dtype(mask) != im.dtype(node):
        return (
            f"a non-constant attn_mask must be an additive mask of the query's dtype, found "
            f"{str(im.dtype(mask))[6:]} (a boolean mask must be known at compile time)"
        )
    return None


@_op("aten.scaled_dot_product_attention.default", check=_sdpa_check, free_args=("attn_mask",))
def _sdpa(im: _Importer, node: Node, a: Args) -> ir.Value:
    """softmax(q @ k^T * scale + mask) @ v."""
    torch = im.torch
    dtype = im.dtype(node)
    q, k, v = (im.value(a[n]) for n in ("query", "key", "value"))
    rank = len(_shape_of(k))
    length, source, depth = _shape_of(q)[-2], _shape_of(k)[-2], _shape_of(q)[-1]
    key_t = _transpose_value(im, k, [*range(rank - 2), rank - 1, rank - 2])
    scale = a["scale"] if a["scale"] is not None else 1.0 / math.sqrt(depth)
    scores = im.b.mul(im.b.matmul(q, key_t), im.scalar(scale, node))
    masks = []
    if a["is_causal"]:
        masks.append(torch.ones(length, source, dtype=torch.bool).tril())
    if a["attn_mask"] is not None:
        if im.is_const(a["attn_mask"]):
            masks.append(im.const(a["attn_mask"]))
        else:
            scores = im.b.add(scores, im.value(a["attn_mask"]))
    for mask in masks:
        if mask.dtype == torch.bool:
            mask = torch.zeros(mask.shape, dtype=dtype).masked_fill(~mask, float("-inf"))
        scores = im.b.add(scores, im.constant(mask.to(dtype), "attn_mask"))
    return im.b.matmul(im.b.softmax(scores, axis=rank - 1), v)
