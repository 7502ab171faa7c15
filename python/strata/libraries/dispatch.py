"""Dispatch rules of `graph-dispatch-libcall`, for users: `add_rule`, `remove_rule`,
`user_rules`, `active_rules`, `DispatchRule` (the pass module holds the implementation)."""

from strata.transforms.graph.dispatch_libcall import (  # noqa: F401
    DEFAULT_RULES,
    DispatchRule,
    active_rules,
    add_rule,
    parse_rule,
    remove_rule,
    user_rules,
)
