"""The search space of a tensor program: for each matmul block, the micro-kernel tile (rows,
columns in vectors), packing and threads, sampled with `sample_categorical` so that a trace
records every decision and a tuner can change one at a time."""

from __future__ import annotations

from strata.conversions.tprog_to_hwprim import match_matmul
from strata.transforms.tprog import nest
from strata.transforms.tprog.schedule import Schedule

ROWS = [1, 2, 3, 4, 5, 6, 7, 8, 12]


def tunable_blocks(sch: Schedule) -> list[str]:
    import mlir.ir as ir

    names = []
    for block in nest.blocks_in(sch.fn):
        if match_matmul(block) is not None:
            names.append(ir.StringAttr(block.attributes["name"]).value)
    return names


def default_decisions(sch: Schedule, vector_width: int) -> list[list[int]]:
    """The decisions that reproduce the default schedule (convert-tprog-to-hwprim's choice), so
    a search starts from it and never ends worse."""
    from strata.conversions.tprog_to_hwprim import default_config

    decisions: list[list[int]] = []
    for block in nest.blocks_in(sch.fn):
        match = match_matmul(block)
        if match is None:
            continue
        config = default_config(match, vector_width)
        decisions += [[ROWS.index(config.rows)], [1], [int(config.pack)], [int(config.parallel)]]
    return decisions


def sketch(sch: Schedule, vector_width: int) -> None:
    """Apply one sampled schedule to every tunable block of `sch`'s function."""
    for name in tunable_blocks(sch):
        rows = sch.sample_categorical(ROWS)
        cols = sch.sample_categorical([vector_width, 2 * vector_width, 3 * vector_width])
        pack = sch.sample_categorical([0, 1])
        parallel = sch.sample_categorical([0, 1])
        sch.tensorize(name, rows=rows, cols=cols, pack=pack, parallel=parallel)
