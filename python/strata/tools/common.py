"""What the command-line tools share: input, output, chunks and error exits."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
from pathlib import Path


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line exits with 1 like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.exit(fail(self.prog, message))


def fail(tool: str, message: str) -> int:
    print(f"{tool}: error: {message}", file=sys.stderr)
    return 1


def read_input(path: str) -> tuple[str, str]:
    """The text and the name diagnostics use for it; text that is not UTF-8 is an OSError."""
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    try:
        return data.decode("utf-8"), "<stdin>" if path == "-" else path
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        message = f"not UTF-8 text (byte 0x{data[e.start]:02x} at line {line}, column {column})"
        raise OSError(errno.EILSEQ, message) from None


def split_chunks(text: str, split: bool) -> list[tuple[str, int]]:
    """Chunks separated by `// -----` lines, each with the file line it starts on."""
    if not split:
        return [(text, 1)]
    chunks: list[tuple[str, int]] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip().startswith("// -----"):
            chunks.append(("\n".join(current), start))
            current, start = [], number + 1
        else:
            current.append(line)
    chunks.append(("\n".join(current), start))
    return chunks


def write_output(path: str, text: str | bytes) -> None:
    """Write all of `text` (or binary data) or nothing: a temporary file renamed into place."""
    if isinstance(text, str) and not text.endswith("\n"):
        text += "\n"
    if path == "-":
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".strata-")
    try:
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
