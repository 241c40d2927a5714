"""Named points at which a fault-injection test may kill the run (tests/test_crash_safety.py).

``AUTOGRANT_KILL_AT=N`` sends SIGKILL to this process at the N-th checkpoint it passes: nothing is flushed,
no handler runs, as when the machine loses power. With ``AUTOGRANT_KILL_SIGNAL=INT`` it sends SIGINT instead, to
its whole process group, as an operator's Ctrl-C at the terminal does (the night and the processes beside it).
``AUTOGRANT_CHECKPOINT_LOG=FILE`` appends each name passed. Without these variables a checkpoint costs one
dictionary lookup.
"""

import os
import signal

_passed = 0


def checkpoint(name: str) -> None:
    global _passed
    kill_at = os.environ.get("AUTOGRANT_KILL_AT")
    log = os.environ.get("AUTOGRANT_CHECKPOINT_LOG")
    if not kill_at and not log:
        return
    _passed += 1
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{_passed}\t{name}\n")
    if kill_at and int(kill_at) == _passed:
        if os.environ.get("AUTOGRANT_KILL_SIGNAL") == "INT":
            os.killpg(os.getpgid(0), signal.SIGINT)
        else:
            os.kill(os.getpid(), signal.SIGKILL)
