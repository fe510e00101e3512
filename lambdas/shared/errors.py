"""The one exception a malformed event raises, whichever function reads it."""

from __future__ import annotations


class InvalidEventError(ValueError):
    """An event (or a record carrying one) breaks its schema or the envelope rules.

    The message names what was being read, the field path and the rule broken, e.g.
    ``OrderCreated event is invalid at detail.items[0].quantity: must be bigger than or equal
    to 1 (rule: minimum)``. ``record`` prefixes it when the event came in a batch.
    """

    def __init__(
        self,
        subject: str,
        field: str,
        problem: str,
        rule: str,
        record: str | None = None,
    ) -> None:
        self.subject = subject
        self.field = field
        self.problem = problem
        self.rule = rule
        self.record = record
        prefix = f"{record}: " if record else ""
        super().__init__(f"{prefix}{subject} is invalid at {field}: {problem} (rule: {rule})")

    def in_record(self, record: str) -> InvalidEventError:
        """The same error, said of a record in a batch (e.g. ``record 2 (messageId m-2)``)."""
        return InvalidEventError(self.subject, self.field, self.problem, self.rule, record)


class ConfigurationError(RuntimeError):
    """The function's environment is missing a variable or holds an unusable value."""
