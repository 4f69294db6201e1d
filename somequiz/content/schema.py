"""JSON Schemas generated from the models, for trainers' editors."""

from __future__ import annotations

import json
from typing import get_args

from pydantic import BaseModel

from somequiz.content.models import Catalogue, Course, Scenario

SCHEMAS: dict[str, type[BaseModel]] = {
    "schema.json": Scenario,
    "course.schema.json": Course,
    "guideline.schema.json": Catalogue,
}


def field_names() -> set[str]:
    """Every field name used anywhere in the trainer files."""
    names: set[str] = set()
    todo = list(SCHEMAS.values())
    while todo:
        model = todo.pop()
        for name, info in model.model_fields.items():
            names.add(name)
            todo += _nested_models(info.annotation)
    return names


def _nested_models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _nested_models(arg)]


def schema_files() -> dict[str, str]:
    """File name → JSON text of every schema."""
    out = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return out
