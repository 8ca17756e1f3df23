"""Which task queue each workflow runs on.

Promotions (and checkpoints) run on the configured task queue. Demotions and fleet halts run on a
queue of their own, `<task queue>-risk`, polled by a worker of its own in the same process: a risk
event must never wait behind thousands of promotion requests being started or replayed. Temporal
dispatches a queue's tasks in order and a worker's slots are shared by whatever it polls, so a
separate queue (with its own slots and cache) is what keeps a demotion's latency independent of
the promotion backlog.
"""

from __future__ import annotations

RISK_SUFFIX = "-risk"


def risk_task_queue(task_queue: str) -> str:
    """The queue of the demotion and fleet-halt workflows (and their activities)."""
    return f"{task_queue}{RISK_SUFFIX}"
