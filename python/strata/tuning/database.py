"""The tuning database: JSON lines, one measured schedule per line.

    {"workload": "<hash>", "func": "fused_matmul_relu", "target": "cpu/16",
     "latency_us": 12.3, "trace": "# schedule: ...\\n..."}

A workload is a tensor program up to its name: the hash of its IR with the name blanked out, so
the same layer in another model finds the same records.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from mlir import ir


def workload_key(fn: ir.Operation) -> str:
    text = fn.get_asm(print_generic_op_form=True)
    text = re.sub(r'sym_name = "[^"]*"', 'sym_name = ""', text)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Record:
    workload: str
    func: str
    target: str
    latency_us: float
    trace: str
    final: bool = False  # the winner of a tuning run, re-measured against the other finalists


class Database:
    """Records in a JSON-lines file (created on first write)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.records: list[Record] = []
        if self.path.exists():
            for number, line in enumerate(self.path.read_text().splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    self.records.append(Record(**json.loads(line)))
                except (json.JSONDecodeError, TypeError) as e:
                    raise ValueError(f"{self.path}:{number}: not a tuning record: {e}") from None

    def add(self, record: Record) -> None:
        self.records.append(record)
        with self.path.open("a") as f:
            f.write(json.dumps(asdict(record)) + "\n")

    def best(self, workload: str, target: str) -> Record | None:
        """The fastest final record (a single timing can be lucky; finals were re-measured),
        else the fastest record."""
        matches = [r for r in self.records if r.workload == workload and r.target == target]
        finals = [r for r in matches if r.final] or matches
        return min(finals, key=lambda r: r.latency_us) if finals else None
