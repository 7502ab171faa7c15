"""How an artifact carries this runtime: the package's modules as `strata_cuda/` beside the
manifest, and `runtime.py`, a launcher, so that `python ARTIFACT/runtime.py ARTIFACT` runs where
Strata is not installed (only numpy and the CUDA driver needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGE = "strata_cuda"  # the runtime's folder inside an artifact
LAUNCHER = "runtime.py"

LAUNCHER_TEXT = '''\
"""Runs this Strata CUDA artifact with only numpy and the CUDA driver; the runtime is the
strata_cuda folder beside this file (a copy of strata.runtime.cuda).

    python runtime.py ARTIFACT [--check] [--inputs in.npz] [--compare expected.npz] [--repeat N]

Imported (with this folder on sys.path), `runtime` offers the runtime's API: runtime.load(...).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from strata_cuda import *  # noqa: E402, F403 (the API, as strata.runtime.cuda's)
from strata_cuda.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(prog=Path(sys.argv[0]).name))
'''


def copy_runtime(folder: str | Path) -> Path:
    """Copy this runtime into the artifact `folder`: the modules into `folder/strata_cuda/` and
    the launcher `folder/runtime.py`, whose path is returned."""
    folder = Path(folder)
    package = folder / PACKAGE
    package.mkdir(exist_ok=True)
    for module in sorted(Path(__file__).resolve().parent.glob("*.py")):
        shutil.copyfile(module, package / module.name)
    (folder / LAUNCHER).write_text(LAUNCHER_TEXT)
    return folder / LAUNCHER
