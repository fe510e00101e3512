"""Lambda runtimes for localbus: child processes over the Lambda Runtime API (Node.js, Python)."""
