"""The kernels of a PTX module (`.entry` signatures), against which launches are checked."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import ArtifactError

ARG_BYTES = {"ptr": 8, "i32": 4, "i64": 8, "f32": 4, "f64": 8}


@dataclass(frozen=True)
class PTXEntry:
    params: tuple[int, ...]  # bytes of each parameter
    maxntid: tuple[int, int, int] | None  # missing dimensions are 1
    reqntid: tuple[int, int, int] | None


PTXModule = dict[str, PTXEntry]
_PTX_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_PTX_ENTRY = re.compile(r"\.entry\s+([\w$]+)\s*(?:\(([^)]*)\))?([^{]*)\{")
_PTX_TYPE = re.compile(r"\.[usbf](8|16|32|64)\b")
_PTX_ARRAY = re.compile(r"\[\s*(\d+)\s*\]")
_PTX_NTID = re.compile(r"\.(maxntid|reqntid)\s+(\d+)(?:\s*,\s*(\d+))?(?:\s*,\s*(\d+))?")


def parse_ptx(text: str) -> PTXModule:
    """The kernels (.entry) of a PTX module: parameter sizes and thread-count directives."""
    entries: PTXModule = {}
    for match in _PTX_ENTRY.finditer(_PTX_COMMENT.sub("", text)):
        params = []
        for decl in filter(str.strip, (match.group(2) or "").split(",")):
            kind = _PTX_TYPE.search(decl)
            count = _PTX_ARRAY.search(decl)
            size = int(kind.group(1)) // 8 if kind else 0
            params.append(size * (int(count.group(1)) if count else 1))
        ntid: dict[str, tuple[int, int, int]] = {}
        for directive in _PTX_NTID.finditer(match.group(3)):
            x, y, z = (int(d) if d else 1 for d in directive.groups()[1:])
            ntid[directive.group(1)] = (x, y, z)
        entries[match.group(1)] = PTXEntry(tuple(params), ntid.get("maxntid"), ntid.get("reqntid"))
    return entries


def check_launch(
    entries: PTXModule,
    name: str,
    kernel: str,
    block: tuple,
    args: list[tuple[str, Any]],
    where: str,
) -> None:
    """A launch (step `where`) against its kernel's signature in `entries`, the kernels of the
    PTX file `name`: the kernel exists, the arguments match its parameters in number and size,
    the block fits its .maxntid / .reqntid."""
    if kernel not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ArtifactError(f"{where}.kernel", f"no kernel '{kernel}' in {name} ({known})")
    entry = entries[kernel]
    if len(args) != len(entry.params):
        raise ArtifactError(
            f"{where}.args",
            f"kernel '{kernel}' takes {len(entry.params)} parameters, found {len(args)} arguments",
        )
    for j, ((kind, _), size) in enumerate(zip(args, entry.params)):
        if ARG_BYTES[kind] != size:
            raise ArtifactError(
                f"{where}.args[{j}]",
                f"parameter {j} of kernel '{kernel}' is {size} bytes, {kind} is {ARG_BYTES[kind]}",
            )
    threads = math.prod(block)
    if entry.reqntid is not None and tuple(block) != entry.reqntid:
        raise ArtifactError(
            f"{where}.block", f"kernel '{kernel}' requires a block of {list(entry.reqntid)}"
        )
    if entry.maxntid is not None and threads > math.prod(entry.maxntid):
        raise ArtifactError(
            f"{where}.block",
            f"{threads} threads; kernel '{kernel}' allows at most "
            f"{math.prod(entry.maxntid)} (.maxntid)",
        )
