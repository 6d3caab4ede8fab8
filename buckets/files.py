"""Universe files on disk ↔ validated models.

A universe is a folder: one ``<bucket>.yaml`` per bucket (the file name is the bucket's name),
``benchmarks.yaml`` and, optionally, ``claims.yaml``. Files are read with ruamel.yaml's round-trip
loader, which constructs only plain mappings, sequences and scalars (never Python objects), and
which remembers the line of every key so that errors can point at it. A plain, valid file is first
tried the fast way (:mod:`buckets.plain_yaml`: libyaml's parser, ruamel's resolution; the same
data); a file that is not plain, or not valid, is read the careful way, which reports its
problems.

Every problem found is reported as a :class:`UniverseError` naming file, line and field; loading
collects all of them (``validate_universe``) before giving up.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
    ScalarEvent,
)

from buckets.errors import UniverseError, UniverseErrors, did_you_mean
from buckets.fileio import FileTooLarge, NotARegularFile, read_regular_file
from buckets.models import (
    BUCKET_NAME_PATTERN,
    BenchmarksConfig,
    Bucket,
    ClaimsFile,
    PoolsFile,
    Side,
    SweepGrid,
    Universe,
    cross_reference_problems,
)
from buckets.plain_yaml import plain_yaml
from buckets.rules import RULE_KINDS

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

BENCHMARKS_FILE = "benchmarks.yaml"
CLAIMS_FILE = "claims.yaml"
POOLS_FILE = "pools.yaml"
RESERVED_STEMS = {"benchmarks", "claims", "pools"}
YAML_SUFFIXES = (".yaml", ".yml")

MAX_YAML_BYTES = 16 * 1024 * 1024
"""Largest YAML file read (a universe of 12,000 members is about 1.5 MB)."""
MAX_YAML_DEPTH = 32
"""Deepest nesting of mappings and sequences accepted (a bucket file needs 3)."""
MAX_ALIAS_VALUES = 10_000
"""Most values that aliases (``*name``, merge keys ``<<: *name``) may repeat in one file, counted
as the values they stand for: a few defaults shared by many members fit; a "billion laughs" file,
whose aliases of aliases stand for billions of values, is refused before it is expanded."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def read_bytes(path: Path) -> bytes:
    """A universe file's bytes; UniverseError when it cannot be read, and for anything that is
    not a regular file (a device, a FIFO: refused before reading, so nothing hangs) or is larger
    than :data:`MAX_YAML_BYTES`."""
    try:
        return read_regular_file(path, max_bytes=MAX_YAML_BYTES)
    except FileNotFoundError:
        raise UniverseError(path, None, "file not found") from None
    except NotARegularFile as exc:
        raise UniverseError(path, None, f"{exc}; refusing to read it") from None
    except FileTooLarge:
        raise UniverseError(
            path, None, f"larger than {MAX_YAML_BYTES // (1024 * 1024)} MB; not a universe file"
        ) from None
    except OSError as exc:
        raise UniverseError(path, None, f"cannot read ({exc.strerror or exc})") from None


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 text of a universe file's bytes, a leading BOM dropped, line endings as they are."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UniverseError(path, None, f"not UTF-8 text ({exc.reason})") from None


def read_text(path: Path) -> str:
    """A universe file's text (a leading BOM is dropped); UniverseError when it cannot be read."""
    return decode_text(path, read_bytes(path)).replace("\r\n", "\n")


def _check_shape(path: Path, text: str) -> None:
    """Walk the file's YAML events (no values are built) and refuse, with the line, nesting deeper
    than :data:`MAX_YAML_DEPTH` and aliases that stand for more than :data:`MAX_ALIAS_VALUES`
    values in all, or that refer to the collection they sit in. Syntax errors propagate as
    ruamel's."""
    sizes: dict[str, int] = {}
    open_anchors: set[str] = set()
    stack: list[list[Any]] = [[0, None]]  # [values counted so far, anchor] per open collection
    repeated = 0
    for event in _yaml().parse(text):
        if isinstance(event, CollectionEndEvent):
            count, anchor = stack.pop()
            if anchor is not None:
                sizes[str(anchor)] = count
                open_anchors.discard(str(anchor))
            stack[-1][0] += count
            continue
        if not isinstance(event, NodeEvent):
            continue
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, AliasEvent):
            anchor = str(event.anchor)
            if anchor in open_anchors:
                raise UniverseError(
                    path,
                    None,
                    f"the alias *{anchor} refers to a collection it is inside",
                    line=line,
                )
            size = sizes.get(anchor, 1)
            repeated += size
            if repeated > MAX_ALIAS_VALUES:
                raise UniverseError(
                    path,
                    None,
                    f"aliases (*name) repeat more than {MAX_ALIAS_VALUES:,} values; write the "
                    "values out (is this an alias bomb?)",
                    line=line,
                )
            stack[-1][0] += size
        elif isinstance(event, ScalarEvent):
            if event.anchor is not None:
                sizes[str(event.anchor)] = 1
            stack[-1][0] += 1
        elif isinstance(event, CollectionStartEvent):
            if len(stack) > MAX_YAML_DEPTH:
                raise UniverseError(
                    path, None, f"nested deeper than {MAX_YAML_DEPTH} levels", line=line
                )
            if event.anchor is not None:
                open_anchors.add(str(event.anchor))
            stack.append([1, event.anchor])


def read_yaml(path: Path, text: str | None = None) -> Any:
    """Parse one YAML file (or ``text`` given for it) with the round-trip loader.

    The file is data: tags build no objects, and nesting and alias expansion are bounded
    (:func:`_check_shape`) before anything is built. Raises UniverseError on any problem:
    unreadable, not a regular file, not YAML, too deep, an alias bomb, duplicate keys, empty, not
    a mapping.
    """
    if text is None:
        text = read_text(path)
    try:
        _check_shape(path, text)
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "syntax error").strip()
        raise UniverseError(path, None, f"not valid YAML: {problem}", line=line) from None
    except YAMLError as exc:
        raise UniverseError(path, None, f"not valid YAML: {exc}") from None
    except ValueError as exc:  # ruamel builds dates while parsing: an impossible one raises
        raise UniverseError(
            path, None, f"not a valid date ({exc})", line=_impossible_date_line(text)
        ) from None
    if data is None:
        raise UniverseError(path, None, "the file is empty")
    if not isinstance(data, dict):
        raise UniverseError(path, None, "the file must hold a mapping of keys to values")
    return data


_DATE_LIKE = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.-])")


def _impossible_date_line(text: str) -> int | None:
    """1-based line of the first date-shaped value that is not a calendar date (2024-13-45)."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _DATE_LIKE.finditer(line):
            year, month, day = (int(g) for g in match.groups())
            try:
                dt.date(year, month, day)
            except ValueError:
                return number
    return None


def plain_data(value: Any) -> Any:
    """ruamel's commented containers and scalar subclasses → plain Python values."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _line_of(data: Any, loc: Iterable[int | str]) -> int | None:
    """1-based line of the deepest key of ``loc`` present in the ruamel tree."""
    line: int | None = None
    node = data
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def _keys_in_file(data: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """``loc`` without the tags pydantic adds for a rule's kind (``when.excess.days`` is
    ``when.days`` in the file): a rule kind that is not a key of the mapping at that point."""
    out: list[int | str] = []
    node = data
    for key in loc:
        if isinstance(node, Mapping) and key not in node and key in RULE_KINDS:
            continue
        out.append(key)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
    return tuple(out)


def _field(loc: Iterable[int | str]) -> str:
    out = ""
    for key in loc:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else str(key)
    return out


def _message(error: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    ctx = error.get("ctx") or {}
    if kind == "enum" and "expected" in ctx:
        msg = f"must be one of {ctx['expected']}"
    if kind == "too_short" and loc and loc[-1] == "members":
        msg = "a bucket needs at least one member"
    return msg


def _errors_from_validation(
    exc: ValidationError, path: Path, data: Any, model: type[BaseModel], *, skip: int = 0
) -> list[UniverseError]:
    out: list[UniverseError] = []
    found: list[tuple[tuple[int | str, ...], ErrorDetails]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])[skip:]
        # pydantic appends the validator's name for Annotated validators; keep real keys only
        loc = tuple(k for k in loc if isinstance(k, int) or not str(k).startswith("function-"))
        found.append((_keys_in_file(data, loc), error))
    # a misspelt required key is an unknown key beside a missing one: name the one it meant
    missing: dict[tuple[int | str, ...], list[str]] = {}
    for loc, error in found:
        if error["type"] == "missing" and loc:
            missing.setdefault(loc[:-1], []).append(str(loc[-1]))
    for loc, error in found:
        message = _message(error, loc)
        if error["type"] == "extra_forbidden" and loc:
            message += did_you_mean(str(loc[-1]), missing.get(loc[:-1], []))
        out.append(UniverseError(path, _field(loc) or None, message, line=_line_of(data, loc)))
    # in the order a reader meets them in the file
    return sorted(out, key=lambda e: e.line if e.line is not None else 0)


def bucket_files(directory: Path) -> list[Path]:
    """The bucket files of a universe folder, sorted by name (benchmarks/claims excluded). The
    suffix counts in any case (``X.YAML`` is a bucket file, so a bad name is reported, never
    skipped)."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix.lower() in YAML_SUFFIXES and p.stem not in RESERVED_STEMS and p.is_file()
    )


def load_bucket(path: Path, text: str | None = None) -> Bucket:
    """Read and validate one bucket file (or ``text`` meant for it); the name is the file's stem."""
    name = path.stem
    if not BUCKET_NAME_PATTERN.fullmatch(name):
        raise UniverseError(
            path,
            None,
            f"{name!r} is not a bucket name: name bucket files in lower-case letters, digits "
            "and '_' (e.g. pipes.yaml)",
        )
    if text is None:
        text = read_text(path)
    quick = _fast_model(text, Bucket, name=name)
    if quick is not None:
        return quick
    data = read_yaml(path, text)
    if "name" in data and data["name"] != name:
        raise UniverseError(
            path,
            "name",
            f"the bucket is named by its file ({name}); remove the name key",
            line=_line_of(data, ("name",)),
        )
    payload = {k: v for k, v in plain_data(data).items() if k != "name"}
    try:
        return Bucket.model_validate({"name": name, **payload})
    except ValidationError as exc:
        raise UniverseErrors(_errors_from_validation(exc, path, data, Bucket)) from None


def _fast_model(text: str, model: type[M], **fixed: str) -> M | None:
    """``model`` from a plain, valid document read the fast way (:mod:`buckets.plain_yaml`),
    with the ``fixed`` keys set (a key the file gives must agree); None sends the file to the
    careful reader, which reports what is wrong, with lines."""
    fast = plain_yaml(text, max_depth=MAX_YAML_DEPTH)
    if fast is None or any(fast.get(k, v) != v for k, v in fixed.items()):
        return None
    try:
        return model.model_validate({**fast, **fixed})
    except ValidationError:
        return None


def _load_model(path: Path, text: str | None, model: type[M]) -> M:
    if text is None:
        text = read_text(path)
    quick = _fast_model(text, model)
    if quick is not None:
        return quick
    data = read_yaml(path, text)
    try:
        return model.model_validate(plain_data(data))
    except ValidationError as exc:
        raise UniverseErrors(_errors_from_validation(exc, path, data, model)) from None


def load_benchmarks(path: Path, text: str | None = None) -> BenchmarksConfig:
    """Read and validate ``benchmarks.yaml``."""
    return _load_model(path, text, BenchmarksConfig)


def load_claims(path: Path, text: str | None = None) -> ClaimsFile:
    """Read and validate ``claims.yaml``."""
    return _load_model(path, text, ClaimsFile)


def load_pools(path: Path, text: str | None = None) -> PoolsFile:
    """Read and validate ``pools.yaml``."""
    return _load_model(path, text, PoolsFile)


def _cross_reference_errors(
    directory: Path,
    buckets: dict[str, Bucket],
    bench: BenchmarksConfig | None,
    claims: ClaimsFile | None,
    unreadable: Sequence[str] = (),
) -> list[UniverseError]:
    """:func:`buckets.models.cross_reference_problems`, each named by its file (and line)."""
    files = {"benchmarks": BENCHMARKS_FILE, "claims": CLAIMS_FILE}
    errors: list[UniverseError] = []
    problems = cross_reference_problems(
        buckets,
        bench.benchmarks if bench is not None else None,
        claims.claims if claims is not None else None,
        unreadable=unreadable,
    )
    trees: dict[str, Any] = {}
    for problem in problems:
        message = problem.message
        if problem.file == "benchmarks" and message.startswith("no bucket named"):
            name = message.removeprefix("no bucket named ")
            message = f"{message} (no {name}.yaml in {directory})"
        path = directory / files.get(problem.file, f"{problem.file}.yaml")
        if path.name not in trees:
            try:
                trees[path.name] = read_yaml(path)
            except (UniverseError, OSError):
                trees[path.name] = None
        line = _line_of(trees[path.name], _loc_of(problem.field)) if problem.field else None
        errors.append(UniverseError(path, problem.field, message, line=line))
    return errors


def _loc_of(field: str) -> tuple[int | str, ...]:
    """``claims[3].stop.when.all[1].of`` as the keys of the YAML tree."""
    out: list[int | str] = []
    for part in field.split("."):
        name, _, rest = part.partition("[")
        if name:
            out.append(name)
        for index in rest.replace("]", "").split("[") if rest else []:
            out.append(int(index))
    return tuple(out)


def _collecting(
    errors: list[UniverseError],
    load: Callable[[Path, str | None], T],
    path: Path,
    text: str | None,
) -> T | None:
    """``load(path, text)``, or None with its problems appended to ``errors``."""
    try:
        return load(path, text)
    except UniverseErrors as exc:
        errors.extend(exc.errors)
    except UniverseError as exc:
        errors.append(exc)
    return None


def validate_universe(
    directory: Path, overrides: Mapping[str, str] | None = None
) -> tuple[Universe | None, list[UniverseError]]:
    """Load a universe folder, collecting every problem instead of stopping at the first.

    ``overrides`` maps file names of the folder to text to validate in place of what is on disk
    (an edit checked before it is written). Returns the universe (None when anything is wrong) and
    the list of problems. Buckets are ordered by side (long, hedge, avoid, context), then by name.
    """
    overrides = overrides or {}
    if not directory.is_dir():
        return None, [UniverseError(directory, None, "not a folder of universe files")]
    errors: list[UniverseError] = []
    buckets: dict[str, Bucket] = {}
    seen_stems: dict[str, Path] = {}
    files = bucket_files(directory)
    if not files:
        errors.append(UniverseError(directory, None, "no bucket files (<bucket>.yaml) found"))
    for path in files:
        if path.stem in seen_stems:
            errors.append(
                UniverseError(
                    path,
                    None,
                    f"bucket {path.stem} is also defined in {seen_stems[path.stem].name}",
                )
            )
            continue
        seen_stems[path.stem] = path
        bucket = _collecting(errors, load_bucket, path, overrides.get(path.name))
        if bucket is not None:
            buckets[path.stem] = bucket
    bench = _collecting(
        errors, load_benchmarks, directory / BENCHMARKS_FILE, overrides.get(BENCHMARKS_FILE)
    )
    claims: ClaimsFile | None = None
    claims_path = directory / CLAIMS_FILE
    if claims_path.exists():
        claims = _collecting(errors, load_claims, claims_path, overrides.get(CLAIMS_FILE))
    pools: PoolsFile | None = None
    pools_path = directory / POOLS_FILE
    if pools_path.exists():
        pools = _collecting(errors, load_pools, pools_path, overrides.get(POOLS_FILE))
    unreadable = [path.stem for path in files if path.stem not in buckets]
    errors.extend(_cross_reference_errors(directory, buckets, bench, claims, unreadable))
    if errors or bench is None:
        return None, errors
    side_order = list(Side)
    ordered = dict(sorted(buckets.items(), key=lambda kv: (side_order.index(kv[1].side), kv[0])))
    universe = Universe(
        buckets=ordered,
        benchmarks=bench.benchmarks,
        claims=claims.claims if claims is not None else [],
        pools=pools,
    )
    return universe, []


@dataclass
class ValidationReport:
    """What ``validate_paths`` found: problems (errors), warnings and a one-line summary."""

    errors: list[UniverseError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: str = ""


def validate_paths(paths: Iterable[Path]) -> ValidationReport:
    """Validate universe folders (whole universes) and single files (each on its own)."""
    report = ValidationReport()
    checked: list[str] = []
    for path in paths:
        if path.is_dir():
            universe, errors = validate_universe(path)
            report.errors.extend(errors)
            if universe is not None:
                report.warnings.extend(universe.warnings())
                members = sum(len(b.members) for b in universe.buckets.values())
                checked.append(
                    f"{path}: {len(universe.buckets)} buckets, {members} members, "
                    f"{len(universe.benchmarks)} benchmarks, {len(universe.claims)} claims"
                )
            continue
        loader: Any = {
            "benchmarks": load_benchmarks,
            "claims": load_claims,
            "pools": load_pools,
        }.get(path.stem, load_bucket)
        if _collecting(report.errors, loader, path, None) is not None:
            checked.append(str(path))
    report.summary = "; ".join(checked)
    return report


def load_universe(directory: Path) -> Universe:
    """Load and validate a universe folder; raise :class:`UniverseErrors` listing every problem."""
    universe, errors = validate_universe(directory)
    if errors:
        raise UniverseErrors(errors)
    assert universe is not None
    return universe


def load_sweep_grid(path: Path, text: str | None = None) -> SweepGrid:
    """Read and validate a sweep grid file (see :class:`buckets.models.SweepGrid`)."""
    return _load_model(path, text, SweepGrid)


def sweep_grid(path: Path | None, overrides: Mapping[str, Any]) -> SweepGrid:
    """A sweep's grid: the file at ``path`` (when given) with ``overrides`` (the CLI's flags that
    were given) put over it, validated as one :class:`SweepGrid`. Raises :class:`UniverseError`
    naming the file (or ``the sweep's options``) and the first bad field."""
    base: dict[str, Any] = load_sweep_grid(path).model_dump() if path is not None else {}
    data = {**base, **overrides}
    try:
        return SweepGrid.model_validate(data)
    except ValidationError as exc:
        where = f"{path} with the sweep's options" if path is not None else "the sweep's options"
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise UniverseError(where, _field(tuple(first["loc"])), str(first["msg"]) + more) from None
