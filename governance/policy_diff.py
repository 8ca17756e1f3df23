"""A field-by-field difference between two versions of a tenant's policy, as readers need it:
which dotted field changed, from what to what (JSON text)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from governance.policy import PromotionPolicy

# Who published a version and when are the version's metadata, not its content.
NOT_CONTENT = {"updated_at", "updated_by"}


class FieldChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str  # dotted path, e.g. metric_thresholds.observe_to_shadow.hit_rate_min
    before: str | None  # JSON text; None: absent in that version
    after: str | None


def policy_diff(before: PromotionPolicy | None, after: PromotionPolicy) -> list[FieldChange]:
    """Every field whose value differs, in the order of the newer version (removed ones last).
    With no earlier version every field is new."""
    old = _flat(before.model_dump(mode="json", exclude=NOT_CONTENT)) if before else {}
    new = _flat(after.model_dump(mode="json", exclude=NOT_CONTENT))
    changes = [
        FieldChange(field=k, before=old.get(k), after=v) for k, v in new.items() if old.get(k) != v
    ]
    changes += [FieldChange(field=k, before=v, after=None) for k, v in old.items() if k not in new]
    return changes


def _flat(data: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict) and data:
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    # Lists (roles, waivers) compare whole: an element's position has no name to show.
    return {prefix.rstrip("."): json.dumps(data, sort_keys=True)}
