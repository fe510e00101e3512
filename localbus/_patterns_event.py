"""Find the leaf values of an event for a dotted field name, and match sub-rules against them.

Event Ruler flattens an event into (dotted name, leaf value) pairs: arrays are "crushed out" (a
field inside an array of objects is named as if the array were not there), objects and empty
arrays are not values, and dots inside event keys are not told apart from nesting ("a.b": 1 and
{"a": {"b": 1}} are the same field). Each value remembers which element of which enclosing
array of objects (or of arrays) it came from; a match may not take two fields from different
elements of the same array ("array consistency", Ruler's ACFinder).

Fields of a sub-rule are tried in name order, as Ruler's state machine does, which matters for
``{"exists": false}`` inside arrays: absence is judged against the array elements the fields
before it (in name order) already chose.
"""

from __future__ import annotations

from typing import Any

from localbus._patterns_values import FieldMatcher

_MISSING = object()
_CONFLICT = object()

# One leaf value and its array membership: {array id: element index}, or None if it is not inside
# an array of objects/arrays. An array id is (dict keys from the root, nesting depth at those keys).
Membership = dict[tuple[tuple[str, ...], int], int] | None
Value = tuple[Any, Membership]


class FieldPath:
    """How to find a dotted field name in an event, trying every split of the dots into keys."""

    __slots__ = ("atoms", "dotted_alternatives", "name", "splits")

    def __init__(self, name: str) -> None:
        self.name = name
        atoms = tuple(name.split("."))
        self.atoms = atoms
        n = len(atoms)
        # splits[i]: the keys that can consume atoms[i:j], as (j, key), shortest first.
        self.splits = tuple(
            tuple((j, ".".join(atoms[i:j])) for j in range(i + 1, n + 1)) for i in range(n)
        )
        # dotted_alternatives[i]: keys other than atoms[i] that could be taken at depth i.
        self.dotted_alternatives = tuple(tuple(key for _, key in s[1:]) for s in self.splits)

    def values(self, event: dict[str, Any]) -> tuple[list[Value], bool]:
        """The leaf values at this path and whether any carries array membership."""
        node: Any = event
        alternatives = self.dotted_alternatives
        for i, atom in enumerate(self.atoms):
            if node.__class__ is not dict:
                if node.__class__ is list:
                    return self._walk_all(event)
                return [], False
            for key in alternatives[i]:
                if key in node:
                    return self._walk_all(event)
            node = node.get(atom, _MISSING)
            if node is _MISSING:
                return [], False
        c = node.__class__
        if c is dict:
            return [], False
        if c is list:
            found: list[Value] = []
            for element in node:
                if element.__class__ is list or element.__class__ is dict:
                    return self._walk_all(event)
                found.append((element, None))
            return found, False
        return [(node, None)], False

    def free_match(self, event: dict[str, Any], matcher: FieldMatcher) -> bool | None:
        """``free_field_matches(matcher, values)`` for this path's values, without building
        them; None when a value may carry array membership (then ``values`` must be used).
        Mirrors ``values`` step for step."""
        node: Any = event
        alternatives = self.dotted_alternatives
        for i, atom in enumerate(self.atoms):
            if node.__class__ is not dict:
                if node.__class__ is list:
                    return None
                return matcher.absent_ok
            for key in alternatives[i]:
                if key in node:
                    return None
            node = node.get(atom, _MISSING)
            if node is _MISSING:
                return matcher.absent_ok
        return _free_leaf_match(node, matcher)

    def free_match_top(self, event: dict[str, Any], matcher: FieldMatcher) -> bool | None:
        """``free_match`` for a name without dots, in an event that is a dict: one look-up
        (no other key can name it)."""
        node = event.get(self.name, _MISSING)
        if node is _MISSING:
            return matcher.absent_ok
        return _free_leaf_match(node, matcher)

    def _walk_all(self, event: dict[str, Any]) -> tuple[list[Value], bool]:
        found: list[Value] = []
        self._walk(event, 0, (), 0, None, found)
        return found, any(membership for _, membership in found)

    def _walk(
        self,
        node: Any,
        i: int,
        keys: tuple[str, ...],
        depth: int,
        membership: Membership,
        found: list[Value],
    ) -> None:
        c = node.__class__
        at_leaf = i == len(self.atoms)
        if c is dict:
            if at_leaf:
                return
            for j, key in self.splits[i]:
                child = node.get(key, _MISSING)
                if child is not _MISSING:
                    self._walk(child, j, (*keys, key), 0, membership, found)
        elif c is list:
            array_id = (keys, depth)
            for index, element in enumerate(node):
                ec = element.__class__
                if ec is dict or ec is list:
                    inner = dict(membership) if membership else {}
                    inner[array_id] = index
                    self._walk(element, i, keys, depth + 1, inner, found)
                elif at_leaf:
                    found.append((element, membership))
        elif at_leaf:
            found.append((node, membership))


def _free_leaf_match(node: Any, matcher: FieldMatcher) -> bool | None:
    """The end of ``FieldPath.free_match``: what ``values`` does with the node it reached."""
    c = node.__class__
    if c is dict:
        return matcher.absent_ok
    if c is list:
        for element in node:
            if element.__class__ is list or element.__class__ is dict:
                return None
        if not node:
            return matcher.absent_ok
        if matcher.needs_value:
            test = matcher.test
            for element in node:
                if test(element):
                    return True
        return False
    # bool(): some tests return a match object or None, and None means something else here
    return bool(matcher.needs_value and matcher.test(node))


def _merge(a: Membership, b: Membership) -> Any:
    """The union of two memberships, or _CONFLICT if they name different elements of an array."""
    if not b:
        return a
    if not a:
        return b
    for array_id, index in b.items():
        other = a.get(array_id)
        if other is not None and other != index:
            return _CONFLICT
    return {**a, **b}


def _consistent(a: Membership, b: Membership) -> bool:
    if not a or not b:
        return True
    for array_id, index in b.items():
        other = a.get(array_id)
        if other is not None and other != index:
            return False
    return True


def free_field_matches(matcher: FieldMatcher, values: list[Value]) -> bool:
    """A field whose values carry no array membership: it matches on its own."""
    if not values:
        return matcher.absent_ok
    if matcher.needs_value:
        test = matcher.test
        for value, _ in values:
            if test(value):
                return True
    return False


def consistent_fields_match(fields: list[tuple[FieldMatcher, list[Value]]]) -> bool:
    """Fields (in name order) whose values sit in arrays: find one array-consistent choice."""
    passing = [
        [(value, membership) for value, membership in values if matcher.test(value)]
        if matcher.needs_value
        else []
        for matcher, values in fields
    ]
    failed: set[tuple[int, Any]] = set()

    def search(k: int, membership: Membership) -> bool:
        if k == len(fields):
            return True
        memo_key = (k, tuple(sorted(membership.items())) if membership else ())
        if memo_key in failed:
            return False
        matcher, values = fields[k]
        if (
            matcher.absent_ok
            and not any(_consistent(membership, m) for _, m in values)
            and search(k + 1, membership)
        ):
            return True
        for _, value_membership in passing[k]:
            merged = _merge(membership, value_membership)
            if merged is not _CONFLICT and search(k + 1, merged):
                return True
        failed.add(memo_key)
        return False

    return search(0, None)
