"""JSON Schemas generated from the models, for trainers' editors."""

from __future__ import annotations

import json

from pydantic import BaseModel

from somequiz.scenario import Catalogue, Course, Scenario

SCHEMAS: dict[str, type[BaseModel]] = {
    "schema.json": Scenario,
    "course.schema.json": Course,
    "guideline.schema.json": Catalogue,
}


def schema_files() -> dict[str, str]:
    """File name → JSON text of every schema."""
    out = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return out
