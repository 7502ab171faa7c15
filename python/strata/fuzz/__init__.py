"""Fuzzers that check Strata's tools fail cleanly on bad input (never a traceback or an abort)."""
