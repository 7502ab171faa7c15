"""oneDNN convolutions: `onednn.conv2d` implements `libcall.conv2d` through Strata's C shim.

The shim (`native/onednn/strata_onednn.c`, built by setup.py into `libraries/native/`) takes
plain NCHW / OIHW f32 buffers, caches oneDNN's primitive per problem and the reorder of constant
weights into oneDNN's layout. oneDNN itself comes from the `onednn-cpu-gomp` wheel
(`libdnnl.so.3` in the environment's `lib/`): `pip install 'strata[onednn]'`.

OpenMP: libdnnl.so.3 calls the GNU OpenMP ABI (`GOMP_*`, `omp_*`). LLVM's libomp, which runs
Strata's own parallel loops, implements that ABI too, so it is loaded first: libdnnl binds to
it and the process keeps one thread pool, sized by `strata.set_num_threads`. (Loaded the other
way round, oneDNN runs on libgomp's pool beside libomp's, and each needs its own thread count:
`strata_onednn_set_num_threads` sets the one oneDNN uses.)
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
from mlir import ir
from mlir.dialects import arith, func, llvm

from strata.irutil import callee_of, enclosing_module, lookup_function, symbol_name, walk
from strata.libraries.cblas import element_pointer
from strata.libraries.registry import Library, LibraryFunction, register

SHIM = Path(__file__).parent / "native" / "libstrata_onednn.so"
SYMBOL = "strata_onednn_conv2d"
CONVENTION = (
    "int32 strata_onednn_conv2d(float *input, float *weight, float *out, int64 n, c, h, w, o, "
    "kh, kw, oh, ow, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dilation_h, "
    "dilation_w, groups, weight_id): contiguous NCHW / OIHW f32; weight_id identifies constant "
    "weights (0: none); returns a dnnl_status_t"
)


def _libdnnl() -> Path | None:
    """libdnnl.so.3 from the onednn-cpu-gomp wheel (installed into the environment's lib/)."""
    try:
        dist = importlib.metadata.distribution("onednn-cpu-gomp")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if file.name == "libdnnl.so.3":
            path = Path(str(dist.locate_file(file))).resolve()
            return path if path.is_file() else None
    return None


def _locate() -> Path | None:
    return SHIM if SHIM.is_file() and _libdnnl() is not None else None


def _requires() -> list[Path]:
    import ctypes

    from strata.targets.cpu import openmp_library

    # libomp first, so that libdnnl binds its OpenMP calls to it (see the module docstring); its
    # workers spin 200 ms after a region unless told otherwise (targets/cpu.py). Loaded here, not
    # listed: the JIT may list libomp itself, and one engine loading a library twice aborts.
    omp = openmp_library()
    if omp is not None:
        os.environ.setdefault("KMP_BLOCKTIME", "1")
        ctypes.CDLL(str(omp), mode=ctypes.RTLD_GLOBAL)
    dnnl = _libdnnl()
    return [] if dnnl is None else [dnnl]


ONEDNN = Library("onednn", _locate, requires=_requires, install_hint="pip install 'strata[onednn]'")


# --- accepting a call ----------------------------------------------------------------------------


class Attributes(NamedTuple):
    strides: list[int]
    padding: list[int]  # top, left, bottom, right
    dilation: list[int]
    groups: int


def _attributes(op: ir.Operation) -> Attributes:
    """The op's attributes as Python values; ValueError naming a malformed one."""
    arrays: list[list[int]] = []
    for name, size in (("strides", 2), ("padding", 4), ("dilation", 2)):
        if name not in op.attributes:
            raise ValueError(f"'{name}' is missing")
        try:
            array = list(ir.DenseI64ArrayAttr(op.attributes[name]))
        except ValueError:
            raise ValueError(f"'{name}' must be array<i64: ...>") from None
        if len(array) != size:
            raise ValueError(f"'{name}' needs {size} values, found {len(array)}")
        arrays.append(array)
    if "groups" not in op.attributes or not isinstance(op.attributes["groups"], ir.IntegerAttr):
        raise ValueError("'groups' must be an integer")
    strides, padding, dilation = arrays
    return Attributes(strides, padding, dilation, ir.IntegerAttr(op.attributes["groups"]).value)


def _contiguous(t: ir.Type) -> bool:
    strides, _ = ir.MemRefType(t).get_strides_and_offset()
    expected, size = [], 1
    for extent in reversed(ir.MemRefType(t).shape):
        expected.append(size)
        size *= extent
    return list(strides) == expected[::-1]


def _accepts(op: ir.Operation) -> str | None:
    types = [ir.MemRefType(v.type) for v in op.operands]
    for role, t in zip(("input", "weight", "out"), types):
        if str(t.element_type) != "f32":
            return f"onednn.conv2d takes f32 operands, found {role} {t}"
        if t.rank != 4:
            return f"onednn.conv2d takes 4-D operands (NCHW, OIHW), found {role} {t}"
        if not t.has_static_shape:
            return f"onednn.conv2d needs static shapes, found {role} {t}"
        if not _contiguous(t):
            return f"onednn.conv2d needs contiguous operands, found {role} {t}"
    try:
        a = _attributes(op)
    except ValueError as e:
        return f"libcall.conv2d: {e}"
    (n, c, h, w), (o, cg, kh, kw), out = (list(t.shape) for t in types)
    (sh, sw), (top, left, bottom, right), (dh, dw) = a.strides, a.padding, a.dilation
    groups = a.groups
    if min(sh, sw, dh, dw, groups) < 1 or min(top, left, bottom, right) < 0:
        return "libcall.conv2d needs positive strides, dilations and groups, paddings >= 0"
    if c % groups or o % groups or cg != c // groups:
        return (
            f"libcall.conv2d weight [{o}, {cg}, {kh}, {kw}] does not fit input [{n}, {c}, {h}, "
            f"{w}] with {groups} groups"
        )
    oh = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    ow = (w + left + right - dw * (kw - 1) - 1) // sw + 1
    if out != [n, o, oh, ow]:
        return f"libcall.conv2d output must be [{n}, {o}, {oh}, {ow}], found {out}"
    return None


# --- emitting the call ---------------------------------------------------------------------------


def _constant_array(value: ir.Value) -> np.ndarray | None:
    """The elements of `value` when it is `bufferization.to_buffer` of an `arith.constant`."""
    from strata.dialects.constants import read_constants

    owner = value.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "bufferization.to_buffer":
        return None
    source = owner.operation.operands[0].owner
    if isinstance(source, ir.Block) or source.operation.name != "arith.constant":
        return None
    (array,) = read_constants([source.operation.attributes["value"]])
    return array


def _weight_sources(op: ir.Operation) -> list[ir.Value]:
    """The values the weight operand of `op` can be: itself, or, when it is an argument of the
    function holding `op`, that argument at every call of the function."""
    weight = op.operands[1]
    if not isinstance(weight.owner, ir.Block):
        return [weight]
    fn = op.parent
    while fn is not None and fn.name != "func.func":
        fn = fn.parent
    module = None if fn is None else enclosing_module(fn)
    if fn is None or module is None or weight.owner != fn.regions[0].blocks[0]:
        return []
    index, name = ir.BlockArgument(weight).arg_number, symbol_name(fn)
    calls = [c for c in walk(module) if c.name == "func.call" and callee_of(c) == name]
    return [call.operands[index] for call in calls]


def _weight_id(op: ir.Operation) -> int:
    """A nonzero id of the weight's contents when it is one constant (at every call of the
    tensor program holding `op`): a hash, so equal weights get equal ids. 0 otherwise."""
    digests = set()
    sources = _weight_sources(op)
    for value in sources:
        array = _constant_array(value)
        if array is None:
            return 0
        data = str((array.dtype.str, array.shape)).encode() + np.ascontiguousarray(array).tobytes()
        digests.add(hashlib.blake2b(data, digest_size=8).digest())
    if len(digests) != 1:
        return 0
    return int.from_bytes(digests.pop(), "little") & (2**63 - 1) | 1


def _emit(op: ir.Operation, function: LibraryFunction) -> None:
    i32, i64, ptr = (
        ir.IntegerType.get_signless(32),
        ir.IntegerType.get_signless(64),
        llvm.PointerType.get(),
    )
    module = enclosing_module(op)
    assert module is not None  # convert-libcall-to-func runs on modules
    if lookup_function(module, function.symbol) is None:
        with ir.InsertionPoint.at_block_begin(module.regions[0].blocks[0]):
            func.FuncOp(function.symbol, ([ptr] * 3 + [i64] * 19, [i32]), visibility="private")
    a = _attributes(op)
    x, w, out = op.operands
    (n, c, h, wd), (o, _, kh, kw), (_, _, oh, ow) = (v.type.shape for v in (x, w, out))
    scalars = [n, c, h, wd, o, kh, kw, oh, ow, *a.strides, *a.padding, *a.dilation, a.groups]
    scalars.append(_weight_id(op))
    with ir.InsertionPoint(op), op.location:
        args = [element_pointer(v) for v in (x, w, out)]
        args += [arith.ConstantOp(i64, int(s)).result for s in scalars]
        func.CallOp([i32], function.symbol, args)
    op.erase()


# --- the numpy reference -------------------------------------------------------------------------


def _reference(
    x: np.ndarray,
    weight: np.ndarray,
    out: np.ndarray,
    *,
    strides: list[int],
    padding: list[int],
    dilation: list[int],
    groups: int,
) -> None:
    """out = PyTorch's conv2d(x, weight) without bias (graph.conv2d's numpy reference)."""
    from strata.conversions.graph_ops.conv import conv2d_numpy

    out[...] = conv2d_numpy(x, weight, strides, padding, dilation, groups)


CONV2D = register(
    LibraryFunction(
        name="onednn.conv2d",
        op="libcall.conv2d",
        library=ONEDNN,
        symbol=SYMBOL,
        accepts=_accepts,
        emit=_emit,
        reference=_reference,
        convention=CONVENTION,
    )
)
