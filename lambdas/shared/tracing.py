"""What each function's Tracer patches for X-Ray: botocore, the only library they call out with.

Powertools' Tracer patches every library the X-Ray SDK supports by default (requests, httpx,
sqlite3, psycopg2, pymongo...), importing each one that is installed: tens of milliseconds of
every cold start for libraries these functions never call. Their only I/O is boto3 (botocore),
and the X-Ray SDK's http.client patch skips botocore's connections anyway, so the subsegments
recorded are the same: one per AWS call, with its service, operation and table or queue.
"""

from __future__ import annotations

from typing import Final

TRACED_LIBRARIES: Final = ("botocore",)
