"""Task functions the system tests hand to real django-q2 clusters.

Each run appends one line to the file named by SDROPS_PROBE_FILE (O_APPEND writes of a
short line are atomic), so the test can count executions across processes and machines.
"""

import os


def record(label: str, intended: str | None = None) -> str:
    line = f"{label}|{intended or ''}|{os.getpid()}\n"
    fd = os.open(os.environ["SDROPS_PROBE_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return label
