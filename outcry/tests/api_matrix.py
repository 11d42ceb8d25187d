"""A generic, table-driven API permission test base.

An app lists its endpoints once as ``Row``s (what is called, on which target, and the status each
role must get); ``matrix_params`` turns the table into one pytest case per (row, role), and
``assert_row`` runs a case and, for every refused write, proves that nothing changed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

ROLES = ("anonymous", "none", "viewer", "operator", "manager", "admin")


@dataclass(frozen=True)
class Row:
    action: str  # e.g. "sensor update"
    method: str  # get, post, patch, put, delete
    url: Callable[[Any], str]  # world -> URL
    target: str  # "own" (the site the actors belong to), "other" (a site they do not), "-"
    statuses: dict[str, int]  # role -> expected HTTP status
    body: Callable[[Any], dict] | None = None  # world -> JSON body

    @property
    def is_write(self) -> bool:
        return self.method not in ("get", "head", "options")


def statuses(*codes: int, roles: tuple[str, ...] = ROLES) -> dict[str, int]:
    """Expected statuses in the order of ``roles``."""
    assert len(codes) == len(roles), f"{len(codes)} statuses for {len(roles)} roles"
    return dict(zip(roles, codes, strict=True))


def matrix_params(rows: list[Row]) -> list:
    return [pytest.param(row, role, id=f"{row.action}-{row.target}-{role}") for row in rows for role in row.statuses]


def assert_row(*, client, row: Row, role: str, world, snapshot: Callable[[], Any]) -> Any:
    before = snapshot()
    body = row.body(world) if row.body else None
    response = (
        getattr(client, row.method)(row.url(world), body, format="json")
        if body
        else getattr(client, row.method)(row.url(world))
    )
    expected = row.statuses[role]
    assert response.status_code == expected, (
        f"{row.action} on {row.target} site as {role}: expected {expected}, got {response.status_code}: "
        f"{getattr(response, 'data', response.content)!r}"
    )
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}, "every refusal uses the API's one error shape"
        if row.is_write:
            assert snapshot() == before, f"a refused {row.action} changed data"
    return response
