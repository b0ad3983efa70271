"""The built-in algorithm's text formats, read in blocks of bounded size.

CSV (no header, one record per line, an empty field is a missing value) goes through pandas' C parser
into float32 blocks of about BLOCK_VALUES values. libsvm goes through scikit-learn's parser one
line-aligned block of BLOCK_BYTES at a time, with feature indices taken as written, as xgboost's own
reader takes them (xgboost's text-file reader itself is deprecated since 3.1). Memory holds one block,
whatever the size of the file.

A file that cannot be read ends the job with a SystemExit naming it, which becomes the step's failure.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK_VALUES = 1 << 23  # 8 Mi float32 values, 32 MiB a block
BLOCK_BYTES = 32 << 20


def csv_columns(path: Path) -> int | None:
    """The number of fields in the file's first record, or None when it has no record."""
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                return line.count(b",") + 1
    return None


def csv_blocks(path: Path, block_values: int | None = None) -> Iterator[Any]:
    """The file's records as float32 arrays of shape (rows, columns), about `block_values` values each."""
    import numpy as np
    import pandas

    columns = csv_columns(path)
    if columns is None:
        return
    try:
        rows = max(1, (block_values or BLOCK_VALUES) // columns)
        with pandas.read_csv(path, header=None, dtype=np.float32, chunksize=rows, engine="c") as reader:
            for chunk in reader:
                yield chunk.to_numpy(dtype=np.float32)
    except ValueError as exc:  # pandas' ParserError, and a field that is not a number
        raise SystemExit(f"{path.name}: not numeric CSV: {exc}") from exc


def libsvm_blocks(path: Path, block_bytes: int | None = None) -> Iterator[tuple[Any, Any]]:
    """The file's records as (scipy CSR float32 features, float32 labels), one line-aligned block at a time.

    A block's width is its largest feature index + 1: the caller widens blocks to the largest.
    """
    import numpy as np
    from sklearn.datasets import load_svmlight_file

    for text in line_blocks(path, block_bytes or BLOCK_BYTES):
        if not text.strip():
            continue
        try:
            features, labels = load_svmlight_file(io.BytesIO(text), zero_based=True, dtype=np.float32)
        except ValueError as exc:
            raise SystemExit(f"{path.name}: not libsvm: {exc}") from exc
        if features.shape[0]:
            yield features, labels.astype(np.float32)


def line_blocks(path: Path, block_bytes: int) -> Iterator[bytes]:
    """The file's bytes in blocks of whole lines, each about `block_bytes` long (longer for a longer line)."""
    rest = b""
    with path.open("rb") as stream:
        while block := stream.read(block_bytes):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield block[:cut]
    if rest:
        yield rest
