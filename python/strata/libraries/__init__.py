"""Native libraries Strata can call: the registry of library functions (`libcall` callees).

`registry.py` holds the entries; `openblas.py` the built-in BLAS; `cblas.py` the CBLAS argument
convention; `custom.py` lets users register their own functions (`register_function`);
`dispatch.py` the rules of `graph-dispatch-libcall`.
"""

from strata.libraries.custom import register_function  # noqa: F401
from strata.libraries.registry import unregister  # noqa: F401
