"""Every page function builds its component tree (catches UI errors without a frontend build)."""

from __future__ import annotations

import pytest

import igny8_app.igny8_app as app_module


@pytest.mark.parametrize("route", sorted(app_module.app._unevaluated_pages))
def test_page_builds(route):
    page = app_module.app._unevaluated_pages[route]
    component = page.component() if callable(page.component) else page.component
    assert component is not None
    assert component.render()  # renders to the tag tree the compiler turns into JSX
