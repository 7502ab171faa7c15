"""ONNX frontend: an ONNX model (a file or an `onnx.ModelProto`) to a `graph` module.

Input: default-domain opsets 13 to the newest the installed onnx knows, static input shapes.
Nodes whose inputs are all compile-time constants (initializers, `Constant`, `Shape` of a static
tensor, and whatever exporters compute from them) are evaluated at import with onnx's reference
evaluator; every other node maps to `graph` ops located at the model file with the node's name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError, Diagnostic, file_line_col
from strata.dialects.shapes import ShapeError, broadcast_shape
from strata.frontends.builder import GraphBuilder

if TYPE_CHECKING:
    import onnx

MIN_OPSET = 13
# Element types of graph inputs and constants: ONNX TensorProto codes -> builder dtypes.
_DTYPES = {1: "f32", 10: "f16", 6: "i32", 7: "i64"}
_NUMPY = {"f32": np.float32, "f16": np.float16, "i32": np.int32, "i64": np.int64}
# Ops never evaluated at import even when their inputs are constant: their value is not fixed.
_NOT_FOLDABLE = {
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Bernoulli",
    "Multinomial",
}

Result: TypeAlias = ir.Value | np.ndarray | None
Translate = Callable[["_Importer", "onnx.NodeProto"], Sequence[Result]]
_TRANSLATORS: dict[str, Translate] = {}


def _op(*op_types: str) -> Callable[[Translate], Translate]:
    def add(fn: Translate) -> Translate:
        for op_type in op_types:
            _TRANSLATORS[op_type] = fn
        return fn

    return add


def supported_ops() -> list[str]:
    """The ONNX op types translated to `graph` ops (any op onnx's reference evaluator knows is
    also accepted when all its inputs are compile-time constants)."""
    return sorted(_TRANSLATORS)


def from_onnx(
    model: str | Path | onnx.ModelProto,
    *,
    name: str = "main",
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> ir.Module:
    """A `graph` module with one public function `name` computing the ONNX model's outputs.

    `input_shapes` fixes the shapes of inputs whose dimensions are symbolic in the model.

    >>> module = from_onnx("resnet18.onnx")
    >>> module = from_onnx(onnx_model, input_shapes={"input_ids": (1, 128)})
    >>> cm = strata.compile(module)      # strata.compile("resnet18.onnx") does both
    """
    import onnx

    if isinstance(model, (str, Path)):
        from google.protobuf.message import DecodeError

        path = str(model)
        try:
            proto = onnx.load(path)
        except OSError as e:
            raise CompileError(f"cannot read '{path}': {e.strerror}") from None
        except DecodeError as e:
            raise CompileError(f"'{path}' is not an ONNX model: {e}") from None
    elif isinstance(model, onnx.ModelProto):
        proto = model
        path = f"<onnx:{model.graph.name or 'model'}>"
    else:
        raise TypeError(f"from_onnx takes a path or an onnx.ModelProto, not {type(model).__name__}")
    try:
        return _Importer(proto, path, name, dict(input_shapes or {})).run()
    except CompileError:
        raise
    except Exception:
        # A broken file (a name that is not UTF-8, an initializer shorter than its shape, nodes
        # out of order: the frontend fuzzer found each) fails somewhere in translation; onnx's
        # checker then says what is wrong. Models the checker accepts re-raise: a real bug.
        problem = _checker_problem(proto)
        if problem is None:
            raise
        raise CompileError(f"'{path}' is not a valid ONNX model: {problem}") from None


def _checker_problem(proto: onnx.ModelProto) -> str | None:
    """What onnx's checker finds wrong with `proto` (its first line), or None."""
    import onnx

    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, UnicodeDecodeError, ValueError) as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return None


class _OnnxBuilder(GraphBuilder):
    """A GraphBuilder locating ops at the ONNX node being translated (not at Python lines)."""

    location: ir.Location | None = None

    def _location(self) -> ir.Location:
        return self.location or ir.Location.unknown(self.context)


class _Importer:
    """Translates one ONNX graph; `env` maps value names to `ir.Value`s or numpy constants."""

    def __init__(self, model: onnx.ModelProto, path: str, name: str, shapes: dict[str, Any]):
        import onnx
        from onnx.inliner import inline_local_functions

        if model.functions:
            model = inline_local_functions(model)
        self.model = model
        self.graph = model.graph
        self.path = path
        self.b = _OnnxBuilder(name)
        self.input_shapes = shapes
        self.env: dict[str, Result] = {}
        self.materialized: dict[str, ir.Value] = {}
        self.node: onnx.NodeProto | None = None
        self.uses: Counter[str] = Counter()
        self.label = ""
        with self.b.context:
            self.file_loc = ir.Location.file(path, 0, 0)
        self.opset = self._opset()
        self.checker = onnx.checker.C.CheckerContext()
        self.checker.ir_version = model.ir_version
        self.checker.opset_imports = {o.domain: o.version for o in model.opset_import}

    # ---- driver ----------------------------------------------------------------------------

    def run(self) -> ir.Module:
        import onnx

        initializers = {t.name: t for t in self.graph.initializer}
        nodes = self._live_nodes()
        folded = self._check_supported(nodes, set(initializers))
        inputs = [i for i in self.graph.input if i.name not in initializers]
        unknown = set(self.input_shapes) - {i.name for i in inputs}
        if unknown:
            raise CompileError(
                f"input_shapes names {', '.join(sorted(unknown))}, which the model does not have "
                f"as inputs; its inputs: {', '.join(i.name for i in inputs)}",
                self.file_loc,
            )
        for info in inputs:
            self.env[info.name] = self._input(info)
        for t in self.graph.initializer:
            if t.name in self.uses:
                self.env[t.name] = onnx.numpy_helper.to_array(t)
        for index, node in nodes:
            self._translate(index, node, index in folded)
        self.b.location = self.file_loc
        outputs = [self.value(o.name) for o in self.graph.output]
        return self.b.finish(*outputs)

    def _opset(self) -> int:
        import onnx

        versions = {o.domain: o.version for o in self.model.opset_import}
        version = versions.get("", versions.get("ai.onnx"))
        newest = onnx.defs.onnx_opset_version()
        if version is None:
            raise CompileError("the model imports no default-domain (ai.onnx) opset", self.file_loc)
        if not MIN_OPSET <= version <= newest:
            raise CompileError(
                f"ONNX opset {version} is not supported: expected {MIN_OPSET} to {newest}; "
                f"convert the model with onnx.version_converter.convert_version(model, 17)",
                self.file_loc,
            )
        return version

    def _live_nodes(self) -> list[tuple[int, onnx.NodeProto]]:
        """The nodes some graph output depends on, in a topological order, with their index."""
        needed = {o.name for o in self.graph.output}
        live = []
        for index in reversed(self._topological_order()):
            node = self.graph.node[index]
            if any(o in needed for o in node.output):
                live.append((index, node))
                needed.update(i for i in node.input if i)
        live.reverse()
        self.uses = Counter(i for _, n in live for i in n.input if i)
        self.uses.update(o.name for o in self.graph.output)
        return live

    def _topological_order(self) -> list[int]:
        """Node indices in graph order when it is topological (as ONNX requires), else sorted
        (ONNX Runtime accepts unsorted graphs too)."""
        nodes = self.graph.node
        producer = {o: i for i, n in enumerate(nodes) for o in n.output if o}
        if all(producer.get(i, -1) < k for k, n in enumerate(nodes) for i in n.input):
            return list(range(len(nodes)))
        order: list[int] = []
        state: dict[int, str] = {}  # "open" while its inputs are visited, then "done"
        for root in range(len(nodes)):
            stack = [(root, False)]
            while stack:
                k, inputs_done = stack.pop()
                if inputs_done:
                    state[k] = "done"
                    order.append(k)
                elif state.get(k) == "open":
                    name = nodes[k].name or f"{nodes[k].op_type}_{k}"
                    raise CompileError(
                        f"the graph has a cycle through node '{name}'", self.file_loc
                    )
                elif k not in state:
                    state[k] = "open"
                    stack.append((k, True))
                    stack += [(producer[i], False) for i in nodes[k].input if i in producer]
        return order

    def _check_supported(
        self, nodes: list[tuple[int, onnx.NodeProto]], constants: set[str]
    ) -> set[int]:
        """Raise one error listing every unsupported node; return the indices of the nodes
        evaluated at import (all inputs constant)."""
        folded: set[int] = set()
        unsupported: list[tuple[onnx.NodeProto, int, str]] = []
        for index, node in nodes:
            inputs = [i for i in node.input if i]
            default = node.domain in ("", "ai.onnx")
            if default and node.op_type in ("Shape", "Size"):
                constant = True  # every shape is static
            else:
                constant = default and all(i in constants for i in inputs) and self._foldable(node)
            if constant:
                folded.add(index)
                constants.update(o for o in node.output if o)
            elif not default or node.op_type not in _TRANSLATORS:
                why = ""
                if default and self._foldable(node):
                    why = ": supported only when every input is a compile-time constant"
                op = node.op_type if default else f"{node.domain}.{node.op_type}"
                unsupported.append((node, index, f"unsupported ONNX op '{op}'{why}"))
        if unsupported:
            kinds = sorted({n.op_type for n, _, _ in unsupported})
            first = (
                f"the model has {len(unsupported)} node(s) of unsupported ONNX op types "
                f"({', '.join(kinds)})"
            )
            diags = [Diagnostic("error", first, *file_line_col(self.file_loc))]
            for node, index, message in unsupported:
                label = node.name or f"{node.op_type}_{index}"
                loc = file_line_col(self.file_loc)
                diags.append(Diagnostic("error", f"node '{label}': {message}", *loc))
            raise CompileError(first, diagnostics=diags)
        return folded

    def _foldable(self, node: onnx.NodeProto) -> bool:
        import onnx
        from onnx.reference.ops import load_op

        if node.op_type in _NOT_FOLDABLE:
            return False
        if any(
            a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
            for a in node.attribute
        ):
            return False
        try:
            load_op("", node.op_type, self.opset)
        except Exception:  # onnx raises NotImplementedError, RuntimeError or ValueError here
            return False
        return True

    def _input(self, info: onnx.ValueInfoProto) -> ir.Value:
        loc = ir.Location.name(info.name, childLoc=self.file_loc, context=self.b.context)
        self.b.location = loc
        tensor = info.type.tensor_type if info.type.HasField("tensor_type") else None
        if tensor is None or not tensor.HasField("shape"):
            raise CompileError(f"input '{info.name}' has no tensor shape", loc)
        dtype = _DTYPES.get(tensor.elem_type)
        if dtype is None:
            raise CompileError(
                f"input '{info.name}' has an unsupported element type "
                f"{_type_name(tensor.elem_type)}; expected float32, float16, int32 or int64",
                loc,
            )
        shape: list[int] = []
        for d, dim in enumerate(tensor.shape.dim):
            if not dim.HasField("dim_value"):
                shape.append(-1)
                symbol = f"'{dim.dim_param}'" if dim.dim_param else "an unknown size"
                if info.name not in self.input_shapes:
                    raise CompileError(
                        f"input '{info.name}' has a symbolic dimension {symbol} (dimension {d}); "
                        "Strata needs static shapes: export the model with fixed shapes or pass "
                        f"from_onnx(..., input_shapes={{'{info.name}': (...)}})",
                        loc,
                    )
            else:
                shape.append(dim.dim_value)
        if info.name in self.input_shapes:
            given = [int(d) for d in self.input_shapes[info.name]]
            if len(given) != len(shape) or any(s not in (-1, g) for s, g in zip(shape, given)):
                raise CompileError(
                    f"input_shapes gives {given} for input '{info.name}' whose shape is "
                    f"{['?' if s == -1 else s for s in shape]}",
                    loc,
                )
            shape = given
        return self.b.input(shape, dtype)

    def _translate(self, index: int, node: onnx.NodeProto, folded: bool) -> None:
        import onnx

        self.node = node
        self.label = node.name or f"{node.op_type}_{index}"
        self.b.location = ir.Location.name(
            self.label, childLoc=self.file_loc, context=self.b.context
        )
        for i in node.input:
            if i and i not in self.env:
                self.error(f"input '{i}' is not defined before this node")
        try:  # the node against its schema: attributes, number of inputs
            onnx.checker.check_node(node, self.checker)
        except onnx.checker.ValidationError as e:
            self.error(str(e).splitlines()[0])
        try:
            results = self._fold(node) if folded else _TRANSLATORS[node.op_type](self, node)
        except ShapeError as e:
            self.error(str(e))
        except CompileError as e:  # a shape rule of the builder: name the node
            if not e.diagnostics[0].message.startswith(self.prefix):
                self.error(e.diagnostics[0].message)
            raise
        for k, out in enumerate(node.output):
            if not out:
                continue
            result = results[k] if k < len(results) else None
            if result is None:
                if self.uses[out]:
                    self.error(f"output {k} ('{out}') of {node.op_type} is not supported")
                continue
            self.env[out] = result

    def _fold(self, node: onnx.NodeProto) -> list[Result]:
        from onnx.reference import ReferenceEvaluator

        if node.op_type == "Shape":
            return [self._fold_shape(node)]
        if node.op_type == "Size":
            return [np.array(math.prod(self.shape_of(node.input[0])), np.int64)]
        feeds = {i: self.env[i] for i in node.input if i}
        try:
            outputs = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        except Exception as e:  # the reference evaluator raises whatever numpy raises
            self.error(f"cannot evaluate {node.op_type} at compile time: {e}")
        return [np.asarray(o) for o in outputs]

    def _fold_shape(self, node: onnx.NodeProto) -> np.ndarray:
        shape = self.shape_of(node.input[0])
        start, end = self.attr("start", 0), self.attr("end", None)
        return np.array(shape[start:end], np.int64)

    # ---- helpers for translators ------------------------------------------------------------

    @property
    def prefix(self) -> str:
        assert self.node is not None
        return f"{self.node.op_type} node '{self.label}': "

    def error(self, message: str) -> NoReturn:
        """Raise a CompileError located at the current node."""
        raise CompileError(f"{self.prefix}{message}", self.b.location)

    def attr(self, name: str, default: Any = None) -> Any:
        import onnx

        assert self.node is not None
        for a in self.node.attribute:
            if a.name == name:
                value = onnx.helper.get_attribute_value(a)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def has_input(self, k: int) -> bool:
        assert self.node is not None
        return len(self.node.input) > k and self.node.input[k] != ""

    def const(self, k: int) -> np.ndarray | None:
        """Input `k` if it is a compile-time constant (None when absent or computed)."""
        assert self.node is not None
        if not self.has_input(k):
            return None
        v = self.env[self.node.input[k]]
        return v if isinstance(v, np.ndarray) else None

    def require_const(self, k: int, what: str) -> np.ndarray:
        value = self.const(k)
        if value is None:
            self.error(f"{what} (input {k}) must be a compile-time constant")
        return value

    def int_list(self, k: int, what: str) -> list[int]:
        return [int(v) for v in self.require_const(k, what).reshape(-1)]

    def value(self, name: str) -> ir.Value:
        """The value `name` as an `ir.Value` (a constant becomes one `graph.constant`)."""
        v = self.env[name]
        if isinstance(v, ir.Value):
            return v
        if name not in self.materialized:
            self.materialized[name] = self.constant(v, name)  # type: ignore[arg-type]
        return self.materialized[name]

    def input(self, k: int) -> ir.Value:
        assert self.node is not None
        return self.value(self.node.input[k])

    def constant(self, array: np.ndarray, name: str) -> ir.Value:
        """A `graph.constant` holding `array` (a resource named after the ONNX value)."""
        if array.dtype not in (np.float32, np.float16, np.int32, np.int64):
            self.error(
                f"constant '{name}' of type {array.dtype} feeds a computed op; expected float32, "
                "float16, int32 or int64"
            )
        resource = re.sub(r"[^A-Za-z0-9_]", "_", name) or "weight"
        if array.ndim == 0:  # graph.constant holds at least one dimension
            return self.b.reshape(self.b.constant(array.reshape(1), resource), [])
        return self.b.constant(array, resource)

    def scalar(self, like: ir.Value, value: float, name: str = "scalar") -> ir.Value:
        """A constant of `like`'s element type that broadcasts to it (1 element, rank <= 1)."""
        array = np.array(value, dtype=_NUMPY[_element(like)])
        return self.constant(array.reshape(1) if _dims(like) else array, name)

    def operands(self) -> list[ir.Value]:
        """The node's inputs for a broadcasting op: a scalar constant meeting a tensor becomes
        a 1-element constant, which broadcasts the same."""
        assert self.node is not None
        names = [n for n in self.node.input if n]
        rank = max(len(self.shape_of(n)) for n in names)
        values = []
        for n in names:
            v = self.env[n]
            if isinstance(v, np.ndarray) and v.ndim == 0 and rank > 0:
                key = f"{n}#1"
                if key not in self.materialized:
                    self.materialized[key] = self.constant(v.reshape(1), n)
                values.append(self.materialized[key])
            else:
                values.append(self.value(n))
        return values

    def shape_of(self, name: str) -> list[int]:
        v = self.env[name]
        if isinstance(v, np.ndarray):
            return list(v.shape)
        return _dims(v)  # type: ignore[arg-type]


def _element(value: ir.Value) -> str:
    return str(ir.ShapedType(value.type).element_type)


def _dims(value: ir.Value) -> list[int]:
    return list(ir.ShapedType(value.type).shape)


def _type_name(code: int) -> str:
    import onnx

    try:
        return onnx.TensorProto.DataType.Name(code).lower()
    except ValueError:
        return f"#{code}"


def _axis(cx: _Importer, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        cx.error(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


# ---- elementwise ---------------------------------------------------------------------------

_UNARY = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Exp": "exp",
    "Log": "log",
    "Erf": "erf",
    "Sqrt": "sqrt",
    "Neg": "neg",
    "Abs": "abs",
}
_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}


@_op(*_UNARY)
def _unary(cx: _Importer, node) -> list[Result]:
    return [cx.b.unary(_UNARY[node.op_type], cx.input(0))]


@_op(*_BINARY)
def _binary(cx: _Importer, node) -> list[Result]:
    lhs, rhs = cx.operands()
    return [cx.b.binary(_BINARY[node.op_type], lhs, rhs)]


@_op("Max", "Min", "Sum")
def _variadic(cx: _Importer, node) -> list[Result]:
    name = {"Max": "maximum", "Min": "minimum", "Sum": "add"}[node.op_type]
    values = cx.operands()
    result = values[0]
    for v in values[1:]:
        result = cx.b.binary(name, result, v)
    return [result]


@_op("Reciprocal")
def _reciprocal(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    return [cx.b.div(cx.scalar(x, 1.0, "one"), x)]


@_op("Gelu")
def _gelu(cx: _Importer, node) -> list[Result]:
    approximate = cx.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        cx.error(f"approximate must be 'none' or 'tanh', not '{approximate}'")
    return [cx.b.gelu(cx.input(0), approximate=approximate)]


# Small constant exponents as multiplications and roots: exact for negative bases, and faster.
_POWERS: dict[float, Callable[[_Importer, ir.Value], ir.Value]] = {
    1.0: lambda cx, x: x,
    2.0: lambda cx, x: cx.b.mul(x, x),
    3.0: lambda cx, x: cx.b.mul(cx.b.mul(x, x), x),
    0.5: lambda cx, x: cx.b.sqrt(x),
    -0.5: lambda cx, x: cx.b.rsqrt(x),
    -1.0: lambda cx, x: cx.b.div(cx.scalar(x, 1.0, "one"), x),
}


@_op("Pow")
def _pow(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    exponent = cx.const(1)
    if exponent is not None and exponent.size == 1 and exponent.ndim <= len(_dims(x)):
        power = _POWERS.get(float(exponent.reshape(-1)[0]))
        if power is not None:
            return [power(cx, x)]
    if exponent is not None:  # ONNX lets the exponent's type differ from the base's
        exponent = exponent.astype(_NUMPY[_element(x)])
        if exponent.ndim == 0 and _dims(x):
            exponent = exponent.reshape(1)
        return [cx.b.pow(x, cx.constant(exponent, node.input[1]))]
    y = cx.input(1)
    if _element(y) != _element(x):
        cx.error(f"a computed exponent of type {_element(y)} for a {_element(x)} base")
    return [cx.b.pow(x, y)]


@_op("Clip")
def _clip(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    for k, name in ((1, "maximum"), (2, "minimum")):
        if cx.has_input(k):
            bound = cx.require_const(k, "min" if k == 1 else "max")
            x = cx.b.binary(name, x, cx.scalar(x, float(bound), name))
    return [x]


def _hard_sigmoid(cx: _Importer, x: ir.Value, alpha: float, beta: float) -> ir.Value:
    y = cx.b.add(cx.b.mul(x, cx.scalar(x, alpha, "alpha")), cx.scalar(x, beta, "beta"))
    y = cx.b.minimum(y, cx.scalar(x, 1.0, "one"))
    return cx.b.maximum(y, cx.scalar(x, 0.0, "zero"))


@_op("HardSigmoid")
def _hardsigmoid(cx: _Importer, node) -> list[Result]:
    return [_hard_sigmoid(cx, cx.input(0), cx.attr("alpha", 0.2), cx.attr("beta", 0.5))]


@_op("HardSwish")
def _hardswish(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    return [cx.b.mul(x, _hard_sigmoid(cx, x, 1.0 / 6.0, 0.5))]


@_op("LeakyRelu")
def _leaky_relu(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    negative = cx.b.minimum(x, cx.scalar(x, 0.0, "zero"))
    slope = cx.scalar(x, cx.attr("alpha", 0.01), "alpha")
    return [cx.b.add(cx.b.relu(x), cx.b.mul(negative, slope))]


@_op("Identity", "Dropout")
def _identity(cx: _Importer, node) -> list[Result]:
    if node.op_type == "Dropout" and cx.has_input(2):
        training = cx.const(2)
        if training is None or bool(training):
            cx.error("only inference (training_mode false) is supported")
    return [cx.env[node.input[0]]]


@_op("Cast", "CastLike")
def _cast(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    if node.op_type == "Cast":
        target = _DTYPES.get(cx.attr("to"), _type_name(cx.attr("to")))
    else:
        target = _element(cx.input(1))
    if target != _element(x) or target not in ("f32", "f16", "bf16"):
        cx.error(
            f"casting a computed {_element(x)} tensor to {target} is not supported (only casts "
            "to the same float type, or of compile-time constants, are)"
        )
    return [x]


# ---- linear algebra, convolution, normalization --------------------------------------------


@_op("MatMul")
def _matmul(cx: _Importer, node) -> list[Result]:
    return [cx.b.matmul(cx.input(0), cx.input(1))]


@_op("Gemm")
def _gemm(cx: _Importer, node) -> list[Result]:
    alpha, beta = cx.attr("alpha", 1.0), cx.attr("beta", 1.0)
    a = cx.input(0)
    if len(_dims(a)) != 2:
        cx.error(f"A must be 2-D, found shape {_dims(a)}")
    if cx.attr("transA", 0):
        a = cx.b.transpose(a, [1, 0])
    b_const = cx.const(1)
    if b_const is not None:  # a weight: transpose and scale it now
        w = b_const.T if cx.attr("transB", 0) else b_const
        if alpha != 1.0:
            w = (w * alpha).astype(w.dtype)
            alpha = 1.0
        b = cx.constant(np.ascontiguousarray(w), node.input[1])
    else:
        b = cx.input(1)
        if cx.attr("transB", 0):
            b = cx.b.transpose(b, [1, 0])
    y = cx.b.matmul(a, b)
    if alpha != 1.0:
        y = cx.b.mul(y, cx.scalar(y, alpha, "alpha"))
    if cx.has_input(2) and beta != 0.0:
        c_const = cx.const(2)
        if c_const is not None:
            c = cx.constant((c_const * beta).astype(c_const.dtype), node.input[2])
        else:
            c = cx.input(2)
            if beta != 1.0:
                c = cx.b.mul(c, cx.scalar(c, beta, "beta"))
        y = cx.b.add(y, c)
    return [y]


def _spatial_pads(
    cx: _Importer, sizes: list[int], kernel: list[int], strides: list[int], dilations: list[int]
) -> list[int]:
    """ONNX `pads` ([begin..., end...]) or the padding `auto_pad` asks for."""
    n = len(sizes)
    auto_pad = cx.attr("auto_pad", "NOTSET")
    if auto_pad in ("NOTSET", ""):
        pads = list(cx.attr("pads", [0] * 2 * n))
        if len(pads) != 2 * n:
            cx.error(f"expected {2 * n} pads, found {len(pads)}")
        return pads
    if auto_pad == "VALID":
        return [0] * 2 * n
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        cx.error(f"unknown auto_pad '{auto_pad}'; valid: NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    begin, end = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begin.append(small if auto_pad == "SAME_UPPER" else large)
        end.append(large if auto_pad == "SAME_UPPER" else small)
    return begin + end


@_op("Conv")
def _conv(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    rank = len(_dims(x))
    if rank not in (3, 4):
        cx.error(f"only 1-D and 2-D convolutions are supported, found a {rank}-D input")
    w_const = cx.const(1)
    kernel = list(cx.attr("kernel_shape", cx.shape_of(node.input[1])[2:]))
    n = rank - 2
    strides = list(cx.attr("strides", [1] * n))
    dilations = list(cx.attr("dilations", [1] * n))
    pads = _spatial_pads(cx, _dims(x)[2:], kernel, strides, dilations)
    if rank == 3:  # a 1-D convolution is a 2-D one of height 1
        x = cx.b.reshape(x, [*_dims(x)[:2], 1, _dims(x)[2]])
        if w_const is not None:
            w = cx.constant(w_const[:, :, None, :], node.input[1])
        else:
            w = cx.b.reshape(cx.input(1), [*cx.shape_of(node.input[1])[:2], 1, kernel[0]])
        strides, dilations, pads = [1, *strides], [1, *dilations], [0, pads[0], 0, pads[1]]
    else:
        w = cx.input(1)
    y = cx.b.conv2d(
        x, w, strides=strides, padding=pads, dilation=dilations, groups=cx.attr("group", 1)
    )
    if cx.has_input(2):
        bias_const = cx.const(2)
        out_channels = _dims(y)[1]
        if bias_const is not None:
            bias = cx.constant(bias_const.reshape(out_channels, 1, 1), node.input[2])
        else:
            bias = cx.b.reshape(cx.input(2), [out_channels, 1, 1])
        y = cx.b.add(y, bias)
    if rank == 3:
        y = cx.b.reshape(y, [_dims(y)[0], _dims(y)[1], _dims(y)[3]])
    return [y]


@_op("BatchNormalization")
def _batch_norm(cx: _Importer, node) -> list[Result]:
    if cx.attr("training_mode", 0):
        cx.error("only inference (training_mode 0) is supported")
    weight, bias, mean, var = (cx.input(k) for k in range(1, 5))
    return [cx.b.batch_norm(cx.input(0), weight, bias, mean, var, cx.attr("epsilon", 1e-5))]


@_op("LayerNormalization")
def _layer_norm(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    rank = len(_dims(x))
    axis = _axis(cx, cx.attr("axis", -1), rank)
    normalized = _dims(x)[axis:]
    params = []
    for k, name in ((1, "scale"), (2, "bias")):
        if not cx.has_input(k):  # the bias is optional
            params.append(cx.constant(np.zeros(normalized, _NUMPY[_element(x)]), "zero_bias"))
            continue
        c = cx.const(k)
        if c is not None:
            if list(c.shape) != normalized:
                try:
                    c = np.broadcast_to(c, normalized)
                except ValueError:
                    cx.error(f"{name} {list(c.shape)} does not broadcast to {normalized}")
            params.append(cx.constant(np.ascontiguousarray(c), node.input[k]))
        else:
            p = cx.input(k)
            params.append(p if _dims(p) == normalized else cx.b.broadcast_to(p, normalized))
    return [cx.b.layer_norm(x, params[0], params[1], cx.attr("epsilon", 1e-5))]


@_op("Softmax", "LogSoftmax")
def _softmax(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    axis = _axis(cx, cx.attr("axis", -1), len(_dims(x)))
    if node.op_type == "Softmax":
        return [cx.b.softmax(x, axis)]
    return [cx.b.log_softmax(x, axis)]


_REDUCTIONS = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min"}


@_op(*_REDUCTIONS)
def _reduce(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    rank = len(_dims(x))
    # `axes` is an input from opset 13 (ReduceSum) or 18 (the others), an attribute before.
    axes = cx.int_list(1, "axes") if cx.has_input(1) else cx.attr("axes")
    if not axes:
        if cx.attr("noop_with_empty_axes", 0):
            return [x]
        axes = list(range(rank))
    axes = sorted({_axis(cx, a, rank) for a in axes})
    keepdims = bool(cx.attr("keepdims", 1))
    kind = _REDUCTIONS[node.op_type]
    if kind == "min":  # min(x) = -max(-x)
        return [cx.b.neg(cx.b.reduce("max", cx.b.neg(x), axes, keepdim=keepdims))]
    return [cx.b.reduce(kind, x, axes, keepdim=keepdims)]


# ---- pooling ---------------------------------------------------------------------------------


def _pool_window(cx: _Importer, x: ir.Value) -> tuple[list[int], ...]:
    """Kernel, strides, dilations, pads and the end padding ceil_mode adds (per spatial dim)."""
    if len(_dims(x)) != 4:
        cx.error(f"only 2-D pooling (4-D NCHW input) is supported, found shape {_dims(x)}")
    kernel = list(cx.attr("kernel_shape"))
    strides = list(cx.attr("strides", [1, 1]))
    dilations = list(cx.attr("dilations", [1, 1]))
    pads = _spatial_pads(cx, _dims(x)[2:], kernel, strides, dilations)
    extra = [0, 0]
    if cx.attr("ceil_mode", 0):
        # Widen the end padding to reach the last window; ONNX drops a window that would start
        # in the end padding.
        for d, size in enumerate(_dims(x)[2:]):
            span = size + pads[d] + pads[d + 2] - dilations[d] * (kernel[d] - 1) - 1
            out = -(-span // strides[d]) + 1
            if (out - 1) * strides[d] >= size + pads[d]:
                out -= 1
            extra[d] = max(0, (out - 1) * strides[d] - span)
            pads[d + 2] += extra[d]
    return kernel, strides, dilations, pads, extra


@_op("MaxPool")
def _max_pool(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    if cx.attr("storage_order", 0):
        cx.error("storage_order 1 (column-major indices) is not supported")
    kernel, strides, dilations, pads, _ = _pool_window(cx, x)
    return [cx.b.max_pool2d(x, kernel, strides, pads, dilations)]


@_op("AveragePool")
def _avg_pool(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    kernel, strides, dilations, pads, extra = _pool_window(cx, x)
    if dilations != [1, 1]:
        cx.error(f"dilated average pooling is not supported (dilations {dilations})")
    include_pad = bool(cx.attr("count_include_pad", 0))
    if include_pad and any(extra):
        # The windows ceil_mode adds count the declared padding but not the added one.
        cx.error("ceil_mode windows past the padding with count_include_pad are not supported")
    return [cx.b.avg_pool2d(x, kernel, strides, pads, count_include_pad=include_pad)]


@_op("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    rank = len(_dims(x))
    if rank < 3:
        cx.error(f"expected an N x C x spatial... input, found shape {_dims(x)}")
    if node.op_type == "GlobalAveragePool" and rank == 4:
        return [cx.b.adaptive_avg_pool2d(x, (1, 1))]
    kind = "mean" if node.op_type == "GlobalAveragePool" else "max"
    return [cx.b.reduce(kind, x, list(range(2, rank)), keepdim=True)]


# ---- data movement ---------------------------------------------------------------------------


def _reshape_to(cx: _Importer, x: ir.Value, target: list[int]) -> ir.Value:
    """`x` in shape `target` (graph-canonicalize merges the chains exporters write)."""
    return x if _dims(x) == target else cx.b.reshape(x, target)


@_op("Reshape")
def _reshape(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    target = cx.int_list(1, "the shape")
    if not cx.attr("allowzero", 0):
        for d, size in enumerate(target):
            if size == 0:
                if d >= len(_dims(x)):
                    cx.error(f"shape entry {d} is 0 but the input has rank {len(_dims(x))}")
                target[d] = _dims(x)[d]
    if target.count(-1) > 1 or any(d < -1 for d in target):
        cx.error(f"invalid target shape {target}")
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        total = math.prod(_dims(x))
        if known == 0 or total % known:
            cx.error(f"cannot reshape {_dims(x)} to {target}")
        target[target.index(-1)] = total // known
    return [_reshape_to(cx, x, target)]


@_op("Flatten")
def _flatten(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    rank = len(_dims(x))
    axis = cx.attr("axis", 1)
    if not -rank <= axis <= rank:
        cx.error(f"axis {axis} is out of range for rank {rank}")
    axis += rank if axis < 0 else 0
    dims = _dims(x)
    return [_reshape_to(cx, x, [math.prod(dims[:axis]), math.prod(dims[axis:])])]


@_op("Squeeze")
def _squeeze(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    dims = _dims(x)
    axes = cx.int_list(1, "axes") if cx.has_input(1) else cx.attr("axes")
    if axes is None:
        keep = [d for d in dims if d != 1]
    else:
        drop = {_axis(cx, a, len(dims)) for a in axes}
        for a in drop:
            if dims[a] != 1:
                cx.error(f"cannot squeeze dimension {a} of size {dims[a]}")
        keep = [d for i, d in enumerate(dims) if i not in drop]
    return [_reshape_to(cx, x, keep)]


@_op("Unsqueeze")
def _unsqueeze(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    axes = cx.int_list(1, "axes") if cx.has_input(1) else cx.attr("axes")
    rank = len(_dims(x)) + len(axes)
    new = {_axis(cx, a, rank) for a in axes}
    if len(new) != len(axes):
        cx.error(f"axes {axes} repeat a dimension")
    dims = iter(_dims(x))
    return [_reshape_to(cx, x, [1 if i in new else next(dims) for i in range(rank)])]


@_op("Transpose")
def _transpose(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    rank = len(_dims(x))
    perm = list(cx.attr("perm", list(reversed(range(rank)))))
    return [x if perm == list(range(rank)) else cx.b.transpose(x, perm)]


@_op("Slice")
def _slice(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    dims = _dims(x)
    starts, ends = cx.int_list(1, "starts"), cx.int_list(2, "ends")
    axes = cx.int_list(3, "axes") if cx.has_input(3) else list(range(len(starts)))
    steps = cx.int_list(4, "steps") if cx.has_input(4) else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        cx.error("starts, ends, axes and steps must have the same length")
    offsets, sizes, strides = [0] * len(dims), list(dims), [1] * len(dims)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        a = _axis(cx, axis, len(dims))
        n = dims[a]
        if step <= 0:
            cx.error(f"step {step} on axis {axis}: only positive steps are supported")
        start = min(max(start + n if start < 0 else start, 0), n)
        end = min(max(end + n if end < 0 else end, 0), n)
        size = max(0, -(-(end - start) // step))
        if size == 0:
            cx.error(f"the slice of axis {axis} is empty; empty tensors are not supported")
        offsets[a], sizes[a], strides[a] = start, size, step
    if sizes == dims:
        return [x]
    return [cx.b.slice(x, offsets, sizes, strides)]


@_op("Split")
def _split(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    dims = _dims(x)
    axis = _axis(cx, cx.attr("axis", 0), len(dims))
    parts = len(node.output)
    if cx.has_input(1):  # opset 13+
        sizes = cx.int_list(1, "split")
    elif cx.attr("split") is not None:  # opset < 13
        sizes = list(cx.attr("split"))
    else:  # equal parts; from opset 18 `num_outputs` says how many (the last may be smaller)
        parts = cx.attr("num_outputs", parts)
        chunk = -(-dims[axis] // parts)
        sizes = [min(chunk, dims[axis] - k * chunk) for k in range(parts)]
    if sum(sizes) != dims[axis] or len(sizes) != len(node.output) or min(sizes) < 1:
        cx.error(f"split sizes {sizes} do not split dimension {axis} of size {dims[axis]}")
    results: list[Result] = []
    offset = 0
    for size in sizes:
        offsets = [offset if d == axis else 0 for d in range(len(dims))]
        part = [size if d == axis else n for d, n in enumerate(dims)]
        results.append(x if part == dims else cx.b.slice(x, offsets, part))
        offset += size
    return results


@_op("Concat")
def _concat(cx: _Importer, node) -> list[Result]:
    values = [cx.input(k) for k in range(len(node.input)) if cx.has_input(k)]
    axis = _axis(cx, cx.attr("axis"), len(_dims(values[0])))
    return [cx.b.concat(values, axis)]


@_op("Expand")
def _expand(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    target = broadcast_shape(_dims(x), cx.int_list(1, "the shape"))
    return [x if target == _dims(x) else cx.b.broadcast_to(x, target)]


@_op("Gather")
def _gather(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    dims = _dims(x)
    axis = _axis(cx, cx.attr("axis", 0), len(dims))
    indices = cx.const(1)
    if indices is None:
        idx = cx.input(1)
        if _element(idx) not in ("i32", "i64"):
            cx.error(f"indices must be int32 or int64, found {_element(idx)}")
        return [cx.b.gather(x, idx, axis)]
    indices = indices.astype(np.int64)
    if ((indices < -dims[axis]) | (indices >= dims[axis])).any():
        cx.error(f"indices out of range for dimension {axis} of size {dims[axis]}")
    indices = np.where(indices < 0, indices + dims[axis], indices)
    flat = indices.reshape(-1)
    if flat.size == 0:
        cx.error("empty indices are not supported (empty tensors are not)")
    if indices.ndim <= 1 and (flat.size == 1 or (np.diff(flat) == 1).all()):
        # Consecutive constant indices (a row, a head) are a slice.
        offsets = [int(flat[0]) if d == axis else 0 for d in range(len(dims))]
        sizes = [flat.size if d == axis else n for d, n in enumerate(dims)]
        y = x if sizes == dims else cx.b.slice(x, offsets, sizes)
        out = [*dims[:axis], *indices.shape, *dims[axis + 1 :]]
        return [_reshape_to(cx, y, out)]
    return [cx.b.gather(x, cx.constant(indices, node.input[1]), axis)]


@_op("Tile")
def _tile(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    dims = _dims(x)
    repeats = cx.int_list(1, "repeats")
    if len(repeats) != len(dims) or min(repeats, default=1) < 1:
        cx.error(f"repeats {repeats} must be one positive count per dimension of {dims}")
    if all(r == 1 for r in repeats):
        return [x]
    # x[i mod n] along each axis: broadcast [1, n0, 1, n1, ...] to [r0, n0, r1, n1, ...].
    spread = [v for n in dims for v in (1, n)]
    tiled = [v for r, n in zip(repeats, dims) for v in (r, n)]
    y = cx.b.broadcast_to(_reshape_to(cx, x, spread), tiled)
    return [cx.b.reshape(y, [r * n for r, n in zip(repeats, dims)])]


@_op("Pad")
def _pad(cx: _Importer, node) -> list[Result]:
    x = cx.input(0)
    rank = len(_dims(x))
    mode = cx.attr("mode", "constant")
    if mode != "constant":
        cx.error(f"only mode 'constant' is supported, not '{mode}'")
    pads = cx.int_list(1, "pads")
    axes = cx.int_list(3, "axes") if cx.has_input(3) else list(range(rank))
    if len(pads) != 2 * len(axes):
        cx.error(f"expected {2 * len(axes)} pads for axes {axes}, found {len(pads)}")
    fill = cx.const(2)
    if cx.has_input(2) and fill is None:
        cx.error("constant_value (input 2) must be a compile-time constant")
    value = float(fill.reshape(-1)[0]) if fill is not None and fill.size else 0.0
    for axis, begin, end in zip(axes, pads[: len(axes)], pads[len(axes) :]):
        a = _axis(cx, axis, rank)
        dims = _dims(x)
        if begin < 0 or end < 0:  # negative pads crop
            start, stop = max(-begin, 0), dims[a] - max(-end, 0)
            if stop <= start:
                cx.error(f"pads crop axis {axis} of size {dims[a]} to nothing")
            offsets = [start if d == a else 0 for d in range(rank)]
            x = cx.b.slice(x, offsets, [stop - start if d == a else n for d, n in enumerate(dims)])
            begin, end = max(begin, 0), max(end, 0)
        fill_value = np.full([1] * rank, value, _NUMPY[_element(x)])
        blocks = [
            cx.b.broadcast_to(
                cx.constant(fill_value, "pad_value"),
                [size if d == a else n for d, n in enumerate(_dims(x))],
            )
            if size > 0
            else None
            for size in (begin, end)
        ]
        parts = [blocks[0], x, blocks[1]]
        x = cx.b.concat([p for p in parts if p is not None], a)
    return [x]
