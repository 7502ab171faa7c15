"""Code generation targets. Each target object owns what varies by target: how tensor programs
are lowered, the tail of the pipeline to the LLVM dialect, and how the result is run."""

from __future__ import annotations

import enum
import importlib
from typing import Any


class TargetName(str, enum.Enum):
    CPU = "cpu"
    CUDA = "cuda"


_TARGETS = {
    TargetName.CPU: "strata.targets.cpu:CPUTarget",
    TargetName.CUDA: "strata.targets.cuda:CUDATarget",
}


def get_target(name: TargetName | str, **kwargs: Any) -> Any:
    try:
        key = TargetName(name)
    except ValueError:
        valid = ", ".join(t.value for t in TargetName)
        raise ValueError(f"unknown target '{name}'; valid targets: {valid}") from None
    module, _, cls = _TARGETS[key].partition(":")
    return getattr(importlib.import_module(module), cls)(**kwargs)
