"""Native libraries Strata can call: the registry of library functions (`libcall` callees)."""
