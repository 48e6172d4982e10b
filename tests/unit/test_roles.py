"""role_allows: viewer < editor < admin < owner."""

from __future__ import annotations

import pytest

from igny8_app.domain.enums import Role
from igny8_app.domain.roles import Permission, role_allows

P = Permission
MATRIX = {
    Role.VIEWER: {P.READ},
    Role.EDITOR: {P.READ, P.RUN},
    Role.ADMIN: {P.READ, P.RUN, P.MANAGE},
    Role.OWNER: {P.READ, P.RUN, P.MANAGE, P.OWN},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_permission_matrix(role: Role, permission: Permission) -> None:
    assert role_allows(role, permission) is (permission in MATRIX[role])


def test_matrix_covers_every_role_and_permission() -> None:
    assert set(MATRIX) == set(Role)
    assert set(Permission) == {P.READ, P.RUN, P.MANAGE, P.OWN}


@pytest.mark.parametrize("role", ["viewer", "editor", "admin", "owner"])
def test_roles_may_be_given_as_stored_strings(role: str) -> None:
    assert role_allows(role, P.READ)
    assert role_allows(role, P.OWN) is (role == "owner")


@pytest.mark.parametrize("role", ["superuser", "Owner", ""])
def test_unknown_role_is_refused_loudly(role: str) -> None:
    with pytest.raises(ValueError):
        role_allows(role, P.READ)
