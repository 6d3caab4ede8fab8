"""JSON Schema of a bucket file, generated from the models (so it can never drift from them).

Editors that speak JSON Schema (VS Code's YAML extension, JetBrains IDEs) validate and complete a
bucket file from it; ``universes/bucket.schema.json`` is this output, kept fresh by a test.
"""

from __future__ import annotations

import json
from typing import Any

from buckets.models import Bucket


def bucket_file_schema() -> dict[str, Any]:
    """The schema of ``<bucket>.yaml``: the Bucket model without ``name`` (the file names it)."""
    schema = Bucket.model_json_schema()
    schema["properties"].pop("name", None)
    schema["required"] = [r for r in schema.get("required", []) if r != "name"]
    schema["title"] = "bucketmap bucket file"
    schema["description"] = (
        "One mechanism bucket: side and members. The file name is the bucket's name."
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def bucket_file_schema_json() -> str:
    """The schema as indented JSON text, ending with a newline."""
    return json.dumps(bucket_file_schema(), indent=2, sort_keys=True) + "\n"
