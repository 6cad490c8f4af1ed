"""Results as JSON values and CSV text: the one serialization every front end uses."""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from typing import Any


def jsonable(data: Any) -> Any:
    """Dataclasses, objects with to_dict(), and lists/dicts of them -> plain JSON values; a
    non-finite float becomes None (JSON has no inf or nan)."""
    if isinstance(data, dict):
        return {str(key): jsonable(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [jsonable(item) for item in data]
    if hasattr(data, "to_dict"):
        return jsonable(data.to_dict())
    if is_dataclass(data) and not isinstance(data, type):
        return jsonable(asdict(data))
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def to_json(data: Any) -> str:
    return json.dumps(jsonable(data), indent=2, default=str)


def to_csv(records: Sequence[dict]) -> str:
    """One row per record; nested values (lists, dicts) as JSON text."""
    records = jsonable(list(records))
    if not records:
        return ""
    columns = list(dict.fromkeys(key for record in records for key in record))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in record.items()})
    return buffer.getvalue()
