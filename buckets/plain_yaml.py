"""A universe file read fast: libyaml's parser (PyYAML's C extension) with ruamel.yaml's own
YAML 1.2 resolution and construction of every plain scalar.

ruamel.yaml's round-trip loader (:func:`buckets.files.read_yaml`) is pure Python: a bucket of
12,000 members (1.1 MB) takes about 6.5 s to check and load. libyaml parses the same file in
0.1 s. Only the parsing is libyaml's: each unquoted scalar is resolved and built by ruamel's
resolver and round-trip constructor, exactly as the round-trip loader does it (``ON`` and
``yes`` stay strings, ``017`` is 17, ``2024-01-03`` a date), so the data equal
:func:`buckets.files.plain_data` of the round-trip load (``tests/buckets/test_plain_yaml.py``
compares them on every YAML file of the repository and on a corpus of awkward scalars).

This path takes only plain documents: one document whose root is a mapping, no directives
(``%YAML 1.1`` would change the resolution), no anchors or aliases, no tags, no merge keys, no
duplicate keys, nesting at most ``max_depth`` deep, scalars of the core schema's types.
Anything else, and any error of libyaml's or of a constructor, returns None, and the caller
reads the file the careful way (which also names the line of every problem).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

try:  # PyYAML's libyaml binding; without it every file goes the careful way
    from yaml import CSafeLoader as _CLoader
    from yaml import events as _ev
    from yaml import parse as _parse

    LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML ships libyaml wheels for every platform we run
    LIBYAML = False

_STR = "tag:yaml.org,2002:str"
_PLAIN_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_Plain = str | int | float | bool | None | dt.date


class _NotPlain(Exception):
    """The document needs the careful reader."""


class _Scalars:
    """ruamel's resolver and round-trip constructor, for one plain scalar at a time."""

    def __init__(self) -> None:
        from ruamel.yaml import YAML
        from ruamel.yaml.nodes import ScalarNode

        yaml = YAML(typ="rt")
        self._resolve = yaml.resolver.resolve
        self._construct = yaml.constructor.construct_object
        self._node = ScalarNode
        # a file repeats its keys and statuses thousands of times
        self._known: dict[str, _Plain] = {}

    def value(self, text: str) -> _Plain:
        if text not in self._known:
            self._known[text] = self._value(text)  # every kept value is immutable
        return self._known[text]

    def _value(self, text: str) -> _Plain:
        resolved = self._resolve(self._node, text, (True, False))
        tag = str(getattr(resolved, "value", resolved))  # ruamel's Tag, or a str in older ones
        if tag not in _PLAIN_TAGS:
            raise _NotPlain(tag)
        if tag == _STR:
            return text
        built = self._construct(self._node(resolved, text), deep=True)
        for kind in (bool, int, float):  # ruamel's ScalarInt/ScalarFloat → the plain type
            if isinstance(built, kind):
                return kind(built)
        if built is None or isinstance(built, dt.date):
            return built
        raise _NotPlain(type(built).__name__)


def plain_yaml(text: str, *, max_depth: int) -> dict[str, Any] | None:
    """The document's data as plain Python values, or None when it is not a plain document (see
    the module) or libyaml is missing."""
    if not LIBYAML:
        return None
    try:
        return _build(text, max_depth)
    except Exception:  # noqa: BLE001  (any problem: the careful reader finds and reports it)
        return None


def _build(text: str, max_depth: int) -> dict[str, Any]:
    scalars = _Scalars()
    # per open collection: [container, pending key or _NO_KEY, and for a mapping: the keys as
    # ruamel built them]
    stack: list[list[Any]] = []
    root: Any = _NO_ROOT
    documents = 0

    def add(value: Any) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        container = top[0]
        if isinstance(container, list):
            container.append(value)
        elif top[1] is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise _NotPlain("a collection as a mapping key")
            key = str(value)  # as buckets.files.plain_data names keys
            if key in container or value in top[2]:  # ruamel: 1 and true are the same key
                raise _NotPlain("duplicate key")
            top[2].add(value)
            top[1] = key
        else:
            container[top[1]] = value
            top[1] = _NO_KEY

    for event in _parse(text, Loader=_CLoader):
        if isinstance(event, _ev.DocumentStartEvent):
            if event.version is not None or event.tags:  # %YAML 1.1 changes the resolution
                raise _NotPlain("a %YAML or %TAG directive")
            documents += 1
            if documents > 1:
                raise _NotPlain("more than one document")
        elif isinstance(event, _ev.AliasEvent):
            raise _NotPlain("alias")
        elif isinstance(event, _ev.ScalarEvent):
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NotPlain("anchor or tag")
            plain = event.style in (None, "") and event.implicit[0]
            if event.tag == "!" and plain:
                raise _NotPlain("non-specific tag")
            # a plain '<<' resolves to ruamel's merge tag, not a plain one: the careful way
            add(scalars.value(event.value) if plain else event.value)
        elif isinstance(event, _ev.CollectionStartEvent):
            if event.anchor is not None or event.tag is not None:
                raise _NotPlain("anchor or tag")
            if len(stack) >= max_depth:
                raise _NotPlain("too deep")
            if isinstance(event, _ev.MappingStartEvent):
                stack.append([{}, _NO_KEY, set()])
            else:
                stack.append([[], _NO_KEY])
        elif isinstance(event, _ev.CollectionEndEvent):
            done = stack.pop()[0]
            add(done)
    if not isinstance(root, dict):
        raise _NotPlain("the root is not a mapping")
    return root


class _Marker:
    pass


_NO_KEY = _Marker()
_NO_ROOT = _Marker()
