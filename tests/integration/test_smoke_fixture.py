from sqlmodel import select

from igny8_app.models import CreditCostConfig
from tests.factories import make_account


def test_db_fixture_is_migrated_and_isolated(session):
    assert len(session.exec(select(CreditCostConfig)).all()) == 5
    make_account(session, "Only here", credits=10)


def test_db_fixture_second_test_sees_no_rows_from_first(session):
    from igny8_app.models import Account

    assert session.exec(select(Account)).all() == []
