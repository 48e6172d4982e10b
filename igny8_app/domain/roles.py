"""Who may do what. Roles are ordered: viewer < editor < admin < owner."""

from __future__ import annotations

from enum import Enum

from igny8_app.domain.enums import Role

_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Permission(str, Enum):
    READ = "read"  # see the account's sites, keywords, runs, content
    RUN = "run"  # start/pause/resume/cancel automation, add and import keywords
    MANAGE = "manage"  # settings, billing, team
    OWN = "own"  # ownership-only actions


_MIN_ROLE = {
    Permission.READ: Role.VIEWER,
    Permission.RUN: Role.EDITOR,
    Permission.MANAGE: Role.ADMIN,
    Permission.OWN: Role.OWNER,
}


def role_allows(role: Role | str, permission: Permission) -> bool:
    return _RANK[Role(role)] >= _RANK[_MIN_ROLE[permission]]
