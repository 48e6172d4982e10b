"""How the Automation page's watcher turns a batch of progress events into the card's state
(``LiveRunState._apply_item``) and how fast it may push (``push_interval``)."""

from __future__ import annotations

from types import SimpleNamespace

from igny8_app.pages.automation.state import LiveRunState
from igny8_app.progress_hub import MIN_PUSH_INTERVAL_S, push_interval

apply_item = LiveRunState.__dict__["_apply_item"]  # the plain method, called on a stand-in state


def _card(run: dict | None = None) -> SimpleNamespace:
    noted = []
    return SimpleNamespace(run=run or {}, _card_seq=0, noted=noted, _note_run=noted.append)


def _item(seq: int, processed: int, *, run_id: str = "r1", stage: int = 2, **extra) -> dict:
    return {"site_id": 1, "run_id": run_id, "status": "running", "_seq": seq,
            "state": {"run_id": run_id, "status": "running", "current_stage": stage, "processed_items": processed},
            **extra}


def test_item_events_update_the_card_with_the_newest_state_and_need_no_reload():
    card = _card({"run_id": "r1", "processed_items": 3})
    assert apply_item(card, [_item(7, 4), _item(8, 5), _item(9, 6)]) is False
    assert card.run["processed_items"] == 6 and card._card_seq == 9
    assert card.noted == [card.run]


def test_a_stage_end_shows_the_last_item_first_then_asks_for_a_reload():
    card = _card({"run_id": "r1", "processed_items": 3})
    events = [_item(7, 4), {"site_id": 1, "run_id": "r1", "status": "running", "stage_done": 2, "_seq": 8}]
    assert apply_item(card, events) is True
    assert card.run["processed_items"] == 4 and card._card_seq == 7


def test_status_changes_and_state_less_events_reload():
    card = _card({"run_id": "r1", "processed_items": 3})
    paused = _item(5, 4)
    paused["status"] = paused["state"]["status"] = "paused"
    assert apply_item(card, [paused]) is True
    assert card.run["status"] == "paused"  # the committed state shows at once; the reload follows
    assert apply_item(_card({"run_id": "r1"}), [{"site_id": 1, "run_id": "r1", "status": "running", "_seq": 1}])
    assert apply_item(_card({"run_id": "r1"}), [{"site_id": 1, "reload": True, "_seq": 1}])


def test_another_run_or_an_empty_card_is_never_overwritten_by_an_item_event():
    card = _card({"run_id": "old", "processed_items": 40})
    assert apply_item(card, [_item(3, 1, run_id="new")]) is True
    assert card.run == {"run_id": "old", "processed_items": 40} and card._card_seq == 0
    empty = _card()
    assert apply_item(empty, [_item(3, 1)]) is True and empty.run == {}


def test_push_interval_spreads_a_fixed_budget_over_the_open_pages():
    assert push_interval(0) == push_interval(1) == MIN_PUSH_INTERVAL_S
    assert push_interval(50) > push_interval(10) >= MIN_PUSH_INTERVAL_S
    assert abs(50 / push_interval(50) - 500) < 1e-6  # 50 pages share 500 pushes a second
