"""Copies dialects/*.irdl.mlir into the package for non-editable installs (see pyproject.toml)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithDialects(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "strata" / "dialects" / "irdl"
        target.mkdir(parents=True, exist_ok=True)
        for path in Path(__file__).parent.joinpath("dialects").glob("*.irdl.mlir"):
            shutil.copy(path, target / path.name)


setup(cmdclass={"build_py": BuildWithDialects})
