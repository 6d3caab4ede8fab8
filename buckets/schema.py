"""JSON Schemas of the universe files, generated from the models (so they can never drift).

Editors that speak JSON Schema (VS Code's YAML extension, JetBrains IDEs) validate and complete a
bucket file and ``claims.yaml`` from them; ``universes/bucket.schema.json`` and
``universes/claims.schema.json`` are this output, kept fresh by a test.
"""

from __future__ import annotations

import json
from typing import Any

from buckets.models import Bucket, ClaimsFile


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


def claims_file_schema_json() -> str:
    """The schema of ``claims.yaml`` (claims, their signal rules, stop and restart), as indented
    JSON text ending with a newline."""
    schema = ClaimsFile.model_json_schema(by_alias=True)
    schema["title"] = "bucketmap claims file"
    schema["description"] = (
        "Dated, falsifiable claims: a bucket against a benchmark from a date, with optional "
        "counter-signals, stop and restart rules and a resolve date."
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
