"""DynamoDB tables (AWS::DynamoDB::Table, AWS::DynamoDB::GlobalTable).

The handlers' table calls are served by the AWS backend (moto, localbus.aws_backend); here a
table is only indexed, so `LocalBus.seed_table` and `table_items` find it by name or ARN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from localbus.engine import Kind
from localbus.resources import TABLE, ResourceRef

GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"


class TableKind(Kind):
    types: ClassVar[Mapping[str, str]] = {TABLE: "", GLOBAL_TABLE: ""}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> None:
        return None
