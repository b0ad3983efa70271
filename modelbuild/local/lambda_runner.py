"""Runs one Lambda function invocation in its own process, as the Lambda runtime would call the handler.

`python -m modelbuild.local.lambda_runner <code dir> <module.function> <event.json> <result.json>`: imports
the handler from the code directory, calls it with the event and a minimal context, and writes the
JSON of what it returned. An exception exits 1 after printing it, as Lambda reports an Unhandled error.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
import uuid
from pathlib import Path


class Context:
    """The attributes of Lambda's context object that handlers commonly read."""

    def __init__(self, function_name: str, timeout: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 128
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(code_dir: str, handler: str, event_file: str, result_file: str, function_name: str, timeout: str) -> int:
    """Invoke the handler; 0 when it returned (result written), 1 when it raised."""
    sys.path.insert(0, code_dir)
    module_name, _, function = handler.rpartition(".")
    event = json.loads(Path(event_file).read_text())
    try:
        result = getattr(importlib.import_module(module_name), function)(event, Context(function_name, float(timeout)))
        Path(result_file).write_text(json.dumps(result))
    except Exception as exc:  # noqa: BLE001 - reported as Lambda reports an unhandled error
        traceback.print_exc()
        Path(result_file).write_text(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
