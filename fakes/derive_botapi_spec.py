"""Regenerate ``botapi_spec.json`` from the telegram-bot-api-spec ``api.json`` (facts only, no prose).

Usage: ``python fakes/derive_botapi_spec.py path/to/api.json``, where ``api.json`` is a copy of the public
PaulSonOfLars/telegram-bot-api-spec project's machine-readable Bot API (MIT). The tests need only the derived
``botapi_spec.json``, which is committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "botapi_spec.json"

# Types whose fields the fake validates when they appear nested in parameters; the table also gets
# every type reachable from these through their fields or subtypes.
ROOT_TYPES = (
    "InlineKeyboardMarkup",
    "InlineKeyboardButton",
    "ReplyKeyboardMarkup",
    "KeyboardButton",
    "ReplyKeyboardRemove",
    "ForceReply",
    "ReplyParameters",
    "LinkPreviewOptions",
    "MessageEntity",
    "InputFile",
    "BotCommand",
    "BotCommandScope",
)
PRIMITIVES = {"Integer", "String", "Boolean", "Float", "True"}


def _base_type(type_name: str) -> str:
    """Strip any number of ``Array of`` prefixes from a spec type name."""
    while type_name.startswith("Array of "):
        type_name = type_name.removeprefix("Array of ")
    return type_name


def _fields(entry: dict[str, Any]) -> list[list[Any]]:
    """Return ``[name, types, required]`` triples for a method's or type's fields."""
    return [[f["name"], list(f["types"]), bool(f["required"])] for f in entry.get("fields", [])]


def derive(source: dict[str, Any]) -> dict[str, Any]:
    """Build the compact spec table from the parsed ``api.json``."""
    all_types: dict[str, Any] = source["types"]
    wanted: list[str] = []
    todo = list(ROOT_TYPES)
    while todo:
        name = todo.pop(0)
        if name in wanted or name in PRIMITIVES or name not in all_types:
            continue
        wanted.append(name)
        entry = all_types[name]
        todo.extend(entry.get("subtypes", []))
        todo.extend(_base_type(t) for f in entry.get("fields", []) for t in f["types"])
    types: dict[str, Any] = {}
    for name in sorted(wanted):
        entry = all_types[name]
        if entry.get("subtypes"):
            types[name] = {"subtypes": list(entry["subtypes"])}
        else:
            types[name] = {"fields": _fields(entry)}
    methods = {name: _fields(entry) for name, entry in sorted(source["methods"].items())}
    return {
        "version": source["version"],
        "source": "telegram-bot-api-spec api.json (MIT); field format [name, types, required]",
        "methods": methods,
        "types": types,
    }


def render(spec: dict[str, Any]) -> str:
    """Serialise the table with one method or type per line so diffs stay readable."""
    lines = ["{"]
    lines.append(f' "version": {json.dumps(spec["version"])},')
    lines.append(f' "source": {json.dumps(spec["source"])},')
    for section in ("methods", "types"):
        entries = list(spec[section].items())
        lines.append(f' "{section}": {{')
        for i, (name, value) in enumerate(entries):
            comma = "," if i < len(entries) - 1 else ""
            lines.append(f"  {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)}{comma}")
        lines.append("  }," if section == "methods" else "  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Read the source spec, write ``botapi_spec.json`` next to this script."""
    if len(argv) != 2:
        sys.stderr.write("usage: python fakes/derive_botapi_spec.py path/to/api.json\n")
        return 2
    source_path = Path(argv[1])
    spec = derive(json.loads(source_path.read_text(encoding="utf-8")))
    OUTPUT.write_text(render(spec), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
