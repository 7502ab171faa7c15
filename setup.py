"""Build steps pyproject.toml cannot declare: dialects/*.irdl.mlir copied into the package (for
non-editable installs) and the native shims (CMakeLists.txt) built into
strata/libraries/native/ when their libraries' development files are installed."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Command, Distribution, setup
from setuptools.command.build import build
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent.resolve()
NATIVE = Path("strata") / "libraries" / "native"  # inside the package
ONEDNN_SHIM = "libstrata_onednn.so"


class BuildWithDialects(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "strata" / "dialects" / "irdl"
        target.mkdir(parents=True, exist_ok=True)
        for path in ROOT.joinpath("dialects").glob("*.irdl.mlir"):
            shutil.copy(path, target / path.name)


def _dnnl_cmake_dir() -> Path | None:
    """The folder of dnnl-config.cmake from the onednn-devel-cpu-gomp wheel (in the build
    environment: it is a build requirement), or None."""
    try:
        dist = importlib.metadata.distribution("onednn-devel-cpu-gomp")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if file.name == "dnnl-config.cmake":
            path = Path(str(dist.locate_file(file))).resolve()
            return path.parent if path.is_file() else None
    return None


class BuildNative(Command):
    """Build libstrata_onednn.so with CMake into the package (the source tree when editable);
    skipped with a note when oneDNN, CMake or a C compiler is missing, or STRATA_ONEDNN=0."""

    description = "build the native library shims (CMakeLists.txt)"
    user_options: list = []
    editable_mode = False

    def initialize_options(self):
        self.build_lib = None
        self.build_temp = None
        self._outputs: list[str] = []

    def finalize_options(self):
        self.set_undefined_options(
            "build", ("build_lib", "build_lib"), ("build_temp", "build_temp")
        )

    def _skip(self, why: str) -> None:
        print(
            f"strata: not building {ONEDNN_SHIM} ({why}); the onednn.* library functions "
            "will be unavailable",
            file=sys.stderr,
        )

    def run(self):
        if os.environ.get("STRATA_ONEDNN", "1") == "0":
            return self._skip("STRATA_ONEDNN=0")
        dnnl_dir = _dnnl_cmake_dir()
        if dnnl_dir is None:
            return self._skip("oneDNN is not installed: pip install onednn-devel-cpu-gomp")
        cmake = shutil.which("cmake")
        if cmake is None:
            return self._skip("cmake is not on PATH")
        out = ROOT / "python" / NATIVE if self.editable_mode else Path(self.build_lib) / NATIVE
        work = Path(self.build_temp) / "native"
        configure = [
            cmake,
            "-S",
            str(ROOT),
            "-B",
            str(work),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-Ddnnl_DIR={dnnl_dir}",
            f"-DSTRATA_NATIVE_OUTPUT_DIR={out.resolve()}",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        for step in (configure, [cmake, "--build", str(work), "--target", "strata_onednn"]):
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                print(result.stdout + result.stderr, file=sys.stderr)
                return self._skip(f"'{' '.join(step[:2])}' failed, output above")
        self._outputs = [str(out / ONEDNN_SHIM)]
        print(f"strata: built {out / ONEDNN_SHIM}", file=sys.stderr)

    def get_outputs(self) -> list[str]:
        return [] if self.editable_mode else self._outputs

    def get_output_mapping(self) -> dict[str, str]:
        return {}


class BinaryDistribution(Distribution):
    """The wheel holds a native shim: tag it for the platform, not py3-none-any."""

    def has_ext_modules(self):
        return True


class Build(build):
    sub_commands = [*build.sub_commands, ("build_native", None)]


setup(
    cmdclass={"build": Build, "build_py": BuildWithDialects, "build_native": BuildNative},
    distclass=BinaryDistribution,
)
