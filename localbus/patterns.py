"""EventBridge event-pattern matching with EventBridge's own semantics (AWS Event Ruler's).

    >>> matches({"source": [{"prefix": "com.example."}]}, {"source": "com.example.orders"})
    True

- ``matches(pattern, event)``: does the event match? Both may be dicts or JSON text.
- ``validate(pattern)``: raise ``InvalidPatternError`` (a ``ValueError``) naming what is wrong
  and where, e.g. ``invalid pattern at detail.total: "numeric" expects pairs of operator and
  number, got [">"]``.
- ``compile_pattern(pattern)``: a ``CompiledPattern`` whose ``.matches(event)`` skips the
  pattern look-up. Compiled patterns are kept in a bounded LRU cache keyed by the pattern's
  canonical JSON, so a pattern seen before is never parsed again; a dict pattern is found there
  by its ``marshal`` bytes, JSON text by the text (two more bounded LRU maps in front).

Semantics, each checked against Event Ruler's source and tests and the EventBridge user guide:
matching is on leaf values; every field in the pattern must match (AND) and any value listed
for a field may match (OR); a field missing from the event matches nothing but
``{"exists": false}``; an array in the event matches if any element does, and fields taken from
an array of objects must come from the same element. Strings, numbers, booleans and null never
equal one another; numbers compare as doubles (``300 == 300.0 == 3e2``). ``$or`` takes an array
of at least two sub-patterns and nests. See ``_patterns_compile`` for what is rejected and
``_patterns_values`` / ``_patterns_event`` for how values and arrays are matched.
"""

from __future__ import annotations

import functools
import json
import marshal
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from localbus._patterns_codegen import generate_match
from localbus._patterns_compile import (
    InvalidPatternError,
    compile_subrules,
    contains_or_key,
    load_pattern_text,
)
from localbus._patterns_event import (
    FieldPath,
    Value,
    consistent_fields_match,
    free_field_matches,
)
from localbus._patterns_values import (
    FieldMatcher,
    InexactFloat,
    build_field_matcher,
    parse_json_float,
)

__all__ = [
    "CACHE_SIZE",
    "CompiledPattern",
    "InvalidPatternError",
    "cache_info",
    "clear_cache",
    "compile_pattern",
    "matches",
    "validate",
]

CACHE_SIZE = 1024
GENERATE_AFTER = 1000  # matches of one compiled pattern before its match function is generated

InvalidPatternError.__module__ = __name__

K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: K) -> V | None:
        # Reads take no lock: each OrderedDict call is atomic under the GIL, and a key evicted
        # between the two calls only means it is not moved to the end.
        value = self._data.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        try:  # noqa: SIM105 - on this hot path a try costs less than contextlib.suppress()
            self._data.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile
            pass
        return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


class CompiledPattern:
    """An event pattern parsed once: sub-rules (one per ``$or`` way) of field matchers.

    ``matches(event)``: whether the event (a dict or JSON text) matches. After
    ``GENERATE_AFTER`` matches it is a function generated for this pattern
    (``_patterns_codegen``), unless the pattern is too big for one; ``_interpreted_matches``
    answers until then, and both fall back on ``_general_matches``.
    """

    __slots__ = (
        "_general",
        "_matched",
        "_only_subrule",
        "_paths",
        "_subrules",
        "canonical",
        "matches",
    )

    matches: Callable[[dict[str, Any] | str], bool]

    def __init__(
        self,
        canonical: str,
        paths: list[FieldPath],
        subrules: list[list[tuple[int, FieldMatcher]]],
    ) -> None:
        self.canonical = canonical
        self._paths = paths
        self._subrules = subrules
        # A pattern without "$or" (the usual case): its fields, to be tried without collecting
        # their values first (see _interpreted_matches).
        self._only_subrule = (
            tuple(
                (
                    paths[index].free_match_top
                    if len(paths[index].atoms) == 1
                    else paths[index].free_match,
                    matcher,
                )
                for index, matcher in subrules[0]
            )
            if len(subrules) == 1
            else None
        )
        # The general path as a function of the event alone, holding no reference to self.
        self._general = functools.partial(_general_matches, paths, subrules)
        self._matched = 0
        self.matches = self._counted_matches

    @property
    def field_names(self) -> tuple[str, ...]:
        """The dotted names of the event fields the pattern looks at."""
        return tuple(path.name for path in self._paths)

    def _generate(self) -> Callable[[dict[str, Any] | str], bool]:
        """Generate the pattern's match function now (``matches`` from then on) and return it;
        ``_interpreted_matches`` if the pattern is too big for one."""
        generated = generate_match(self._paths, self._subrules, self._general, _load_event)
        self.matches = generated or self._interpreted_matches
        return self.matches

    def _counted_matches(self, event: dict[str, Any] | str) -> bool:
        # Compiling the source costs about 1 ms, what 2,000 matches save: a pattern matched only
        # a few times (validated, tried once, a small run) never pays it. Threads racing here at
        # worst generate the function twice.
        self._matched += 1
        if self._matched >= GENERATE_AFTER:
            self._generate()
        return self._interpreted_matches(event)

    def _interpreted_matches(self, event: dict[str, Any] | str) -> bool:
        if event.__class__ is not dict:
            event = _load_event(event)
        only = self._only_subrule
        if only is not None:
            # Fields outside arrays of objects match on their own, and one that fails decides
            # (as in _subrule_matches); a field whose values may sit in such an array sends the
            # event down the general path, which gives the same answer for the rest.
            for free_match, matcher in only:
                result = free_match(event, matcher)
                if result is None:
                    break
                if not result:
                    return False
            else:
                return True
        return _general_matches(self._paths, self._subrules, event)

    def _general_matches(self, event: dict[str, Any]) -> bool:
        """The general path alone: every field's values collected, array consistency kept."""
        return _general_matches(self._paths, self._subrules, event)

    def __repr__(self) -> str:
        return f"CompiledPattern({self.canonical})"


def _general_matches(
    paths: list[FieldPath], subrules: list[list[tuple[int, FieldMatcher]]], event: dict[str, Any]
) -> bool:
    found: list[tuple[list[Value], bool] | None] = [None] * len(paths)
    for subrule in subrules:  # noqa: SIM110 - hot path, a loop beats any()
        if _subrule_matches(paths, subrule, event, found):
            return True
    return False


def _subrule_matches(
    paths: list[FieldPath],
    subrule: list[tuple[int, FieldMatcher]],
    event: dict[str, Any],
    found: list[tuple[list[Value], bool] | None],
) -> bool:
    in_arrays: list[tuple[FieldMatcher, list[Value]]] | None = None
    for index, matcher in subrule:
        entry = found[index]
        if entry is None:
            entry = found[index] = paths[index].values(event)
        values, constrained = entry
        if constrained:
            if in_arrays is None:
                in_arrays = []
            in_arrays.append((matcher, values))
        elif not free_field_matches(matcher, values):
            return False
    return in_arrays is None or consistent_fields_match(in_arrays)


_by_canonical: _LRU[str, CompiledPattern] = _LRU(CACHE_SIZE)
_by_text: _LRU[str, CompiledPattern] = _LRU(CACHE_SIZE)
_MARSHAL_VERSION = 2  # binary floats, and no back-references, so equal content gives equal bytes


def _compiled_of_marshal(key: bytes) -> CompiledPattern:
    """The compiled form of the dict pattern whose marshal bytes are ``key``.

    ``marshal.dumps`` writes a pattern several times faster than ``json.dumps``, and it is
    exact: marshal accepts only the exact built-in types (a subclass of str, int, float, dict
    or list is refused, so no custom ``__eq__``, ``__repr__`` or ``items()`` can pass for
    another value), keeps dict order and tells True from 1, 1 from 1.0 and 0.0 from -0.0
    (floats are written bit for bit), and ``marshal.loads`` rebuilds the same tree from the
    bytes: the canonical JSON, and so the compiled pattern, is a function of the bytes.
    """
    return _compile_cached(None, _canonical(marshal.loads(key)))


def _marshal_cache(size: int) -> Callable[[bytes], CompiledPattern]:
    # functools.lru_cache is C-implemented and thread-safe, and keeps no errors: one look-up
    # from a dict pattern's bytes to its compiled form, in front of _by_canonical as _by_text is.
    return functools.lru_cache(maxsize=size)(_compiled_of_marshal)


_by_marshal = _marshal_cache(CACHE_SIZE)


def compile_pattern(pattern: dict[str, Any] | str | CompiledPattern) -> CompiledPattern:
    """The compiled form of ``pattern`` (a dict or JSON text), from the cache when seen before."""
    if isinstance(pattern, CompiledPattern):
        return pattern
    if isinstance(pattern, str):
        compiled = _by_text.get(pattern)
        if compiled is None:
            parsed = load_pattern_text(pattern)
            compiled = _compile_cached(parsed, _canonical_of_parsed_text(parsed))
            _by_text.put(pattern, compiled)
        return compiled
    return _compiled_of_dict(pattern)


def matches(pattern: dict[str, Any] | str | CompiledPattern, event: dict[str, Any] | str) -> bool:
    """Whether ``event`` matches ``pattern``; raises InvalidPatternError for a bad pattern."""
    if pattern.__class__ is dict:  # the common case: _compiled_of_dict inlined
        try:
            key = _marshal_dumps(pattern, _MARSHAL_VERSION)
        except ValueError:  # a type marshal refuses, a cycle, or nesting too deep for it
            return _compile_cached(None, _canonical(pattern)).matches(event)
        return _by_marshal(key).matches(event)
    return compile_pattern(pattern).matches(event)


def validate(pattern: dict[str, Any] | str) -> None:
    """Raise InvalidPatternError if EventBridge would reject ``pattern``."""
    compile_pattern(pattern)


def clear_cache() -> None:
    _by_canonical.clear()
    _by_text.clear()
    _by_marshal.cache_clear()


def cache_info() -> dict[str, int]:
    return {
        "size": len(_by_canonical),
        "max_size": CACHE_SIZE,
        # Each look-up counts once: a hit in whichever cache answered, or a compilation.
        "hits": _by_canonical.hits + _by_text.hits + _by_marshal.cache_info().hits,
        "misses": _by_canonical.misses,
    }


def _canonical_of_parsed_text(pattern: Any) -> str:
    if _needs_exact_key(pattern):
        # Repeated keys and number literals no double holds matter to Ruler but are lost in a
        # JSON dump (the last key wins, 0.30000000000000001 reads 0.3): keep them in the key.
        return "exact:" + repr(_pairs_form(pattern))
    return _canonical(pattern)


def _compiled_of_dict(pattern: Any) -> CompiledPattern:
    """The compiled form of a dict pattern, found by its marshal bytes when seen before.

    On a miss, what the JSON says is compiled (tuples are arrays, keys are strings), so that two
    Python objects with one canonical form can never compile differently. Anything marshal
    refuses (subclasses, cycles, deep nesting) takes the JSON path.
    """
    try:
        key = _marshal_dumps(pattern, _MARSHAL_VERSION)
    except ValueError:  # a type marshal refuses, a cycle, or nesting too deep for it
        return _compile_cached(None, _canonical(pattern))
    return _by_marshal(key)


_marshal_dumps = marshal.dumps


def _canonical(pattern: Any) -> str:
    try:
        # json.dumps with default arguments reuses one C encoder: the cheapest canonical form.
        return json.dumps(pattern)
    except (TypeError, ValueError) as exc:
        raise InvalidPatternError(f"the pattern is not JSON: {exc}") from None


def _needs_exact_key(node: Any) -> bool:
    if isinstance(node, dict):
        return getattr(node, "pairs", None) is not None or any(
            _needs_exact_key(v) for v in node.values()
        )
    if isinstance(node, list):
        return any(_needs_exact_key(v) for v in node)
    return isinstance(node, InexactFloat)


def _pairs_form(node: Any) -> Any:
    if isinstance(node, dict):
        pairs = getattr(node, "pairs", None) or list(node.items())
        return ("{", tuple((k, _pairs_form(v)) for k, v in pairs))
    if isinstance(node, list):
        return ("[", tuple(_pairs_form(v) for v in node))
    return (type(node).__name__, node)


def _compile_cached(pattern: Any, canonical: str) -> CompiledPattern:
    """The cached compiled form of ``canonical``; ``pattern`` (None: parse ``canonical``) is
    compiled on a miss."""
    compiled = _by_canonical.get(canonical)
    if compiled is None:
        if pattern is None:
            pattern = json.loads(canonical)
        compiled = _build_compiled(pattern, canonical)
        _by_canonical.put(canonical, compiled)
    return compiled


def _build_compiled(pattern: Any, canonical: str) -> CompiledPattern:
    """Parse and compile a pattern (the cache makes sure this runs once per pattern)."""
    try:
        subrules = compile_subrules(pattern)
    except InvalidPatternError as error:
        # Ruler falls back to its legacy compiler, where "$or" is an ordinary field name.
        if not contains_or_key(pattern):
            raise
        try:
            subrules = compile_subrules(pattern, or_enabled=False)
        except InvalidPatternError:
            raise error from None

    paths: list[FieldPath] = []
    index_of: dict[str, int] = {}
    matchers: dict[int, FieldMatcher] = {}  # terms lists are shared between $or ways
    compiled_subrules = []
    for subrule in subrules:
        fields = []
        for name in sorted(subrule):  # Ruler walks a rule's fields in name order
            if name not in index_of:
                index_of[name] = len(paths)
                paths.append(FieldPath(name))
            terms = subrule[name]
            matcher = matchers.get(id(terms))
            if matcher is None:
                matcher = matchers[id(terms)] = build_field_matcher(terms)
            fields.append((index_of[name], matcher))
        compiled_subrules.append(fields)
    return CompiledPattern(canonical, paths, compiled_subrules)


def _load_event(event: Any) -> dict[str, Any]:
    if isinstance(event, str | bytes | bytearray):
        event = json.loads(event, parse_float=parse_json_float)
    elif isinstance(event, dict):
        # Mappings of other classes (OrderedDict, ...): the matcher walks plain JSON types.
        event = json.loads(json.dumps(event))
    if not isinstance(event, dict):
        raise ValueError(f"an event must be a JSON object, got {type(event).__name__}")
    return event
