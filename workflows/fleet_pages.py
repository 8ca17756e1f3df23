"""What a fleet workflow (the halt, the resume's unfreeze) carries across pages and across
continue-as-new: where the next page starts and the counts so far, never a list of strategies."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.fleet import PageCount

PAGE = 500
# Pages per run before continuing as new (each page is 2 events of history, plus its result).
PAGES_PER_RUN = 200


class FleetPages(BaseModel):
    model_config = ConfigDict(frozen=True)

    cursor: str | None = None
    pages: int = 0
    strategies: int = 0
    records: int = 0
    skipped: int = 0
    last_record_at: datetime | None = None

    def after(self, done: PageCount) -> Self:
        """The counts once `done`'s page is in (its commit time if it recorded anything)."""
        return self.model_copy(
            update={
                "cursor": done.cursor,
                "pages": self.pages + 1,
                "strategies": self.strategies + done.strategies,
                "records": self.records + done.records,
                "skipped": self.skipped + done.skipped,
                "last_record_at": done.committed_at if done.records else self.last_record_at,
            }
        )
