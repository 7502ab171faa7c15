"""The runtime's errors: a malformed artifact, a failed CUDA call, an argument that does not fit."""

from __future__ import annotations

from .schema import MANIFEST


class ArtifactError(ValueError):
    """A malformed artifact: `field` names the manifest field (`steps[2].grid`), or the file."""

    def __init__(self, field: str, problem: str, source: str = MANIFEST):
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}" if field else f"{source}: {problem}")


class CudaError(RuntimeError):
    """A CUDA driver or cuBLAS call failed: `call` is the function, `name` the error's name."""

    def __init__(self, call: str, code: int, name: str, description: str = ""):
        self.call, self.code, self.name = call, code, name
        detail = f": {description}" if description and description != name else ""
        number = f" ({code})" if code >= 0 else ""
        super().__init__(f"{call} failed with {name}{number}{detail}")


class InputError(ValueError):
    """An argument that does not match the artifact's inputs (count, shape or dtype)."""
