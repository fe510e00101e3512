"""localbus serve: the AWS API on localhost for a template's flow (see localbus.serve.server).

    from localbus.serve import LocalBusServer
    with LocalBusServer("cdk.out", port=0) as server:   # port 0: any free port
        boto3.client("events", endpoint_url=server.endpoint_url).put_events(Entries=[...])

or from a shell: `python -m localbus.serve cdk.out --port 4010`.
"""

from __future__ import annotations

from localbus.serve.server import DEFAULT_PORT, LocalBusServer, serve

__all__ = ["DEFAULT_PORT", "LocalBusServer", "serve"]
