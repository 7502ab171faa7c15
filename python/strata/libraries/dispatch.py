"""Library dispatch, for users: the rules of `graph-dispatch-libcall` (`add_rule`, `remove_rule`,
`user_rules`, `active_rules`, `DispatchRule`; the pass module holds the implementation), its modes
(`Mode`), and what mode `auto` measured and chose (`last_decisions`, `read_cache`, `cache_path`;
`libraries/autotune.py` holds the measuring and the cache).

>>> cm = strata.compile(module, dispatch="auto")
>>> for d in last_decisions():
...     print(d.op, d.function, d.choice, d.generated_us, d.library_us, d.source)
"""

from strata.diagnostics import collect_remarks  # noqa: F401
from strata.libraries.autotune import (  # noqa: F401
    Decision,
    cache_path,
    last_decisions,
    read_cache,
)
from strata.transforms.graph.dispatch_libcall import (  # noqa: F401
    DEFAULT_RULES,
    DispatchRule,
    Mode,
    active_rules,
    add_rule,
    parse_rule,
    remove_rule,
    user_rules,
)
