"""Each stage's own estimate (pure), the estimator's chaining and pricing, and the estimate of what
a running run still needs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from igny8_app.ai.base import ClusterRef, KeywordIn
from igny8_app.ai.offline import OfflineProvider
from igny8_app.domain.costs import CostRule, StageEstimate, Usage, spread
from igny8_app.pipeline.stages import (s1_clustering, s2_ideas, s3_tasks, s4_content, s5_image_prompts,
                                       s6_images)
from igny8_app.services.automation.estimate import Averages, Basis, compose, remaining, typical_run_cost

RULES = {"clustering": CostRule(4, "per_request"), "ideas": CostRule(2, "per_item"),
         "content": CostRule(1, "per_100_words"), "image_prompts": CostRule(1, "per_item"),
         "images": CostRule(2, "per_image")}
CONFIG = {"stage_1_batch_size": 20, "in_article_images": 2}


def test_spread_shares_a_total_in_whole_numbers():
    assert spread(38, 14) == ((3, 10), (2, 4))
    assert spread(40, 20) == ((2, 20),)
    assert spread(5, 0) == () and spread(0, 3) == ((0, 3),)


def test_stage_estimate_prices_each_call_with_the_rule():
    est = StageEstimate(3, ((Usage(words=1950), 2), (Usage(words=2000), 1)))
    assert est.credits(CostRule(1, "per_100_words")) == 20 + 20 + 20 and est.call_count == 3
    assert est.credits(CostRule(1, "per_100_words", min_credits=25)) == 75


def test_clustering_one_request_per_batch_and_nothing_below_the_stage_minimum():
    est = s1_clustering.estimate(45, batch_size=20, new_clusters=6)
    assert est.outputs == 6 and est.call_count == 3 and est.credits(RULES["clustering"]) == 12
    assert est.calls[-1][0].items == 5
    few = s1_clustering.estimate(s1_clustering.MIN_NEW_KEYWORDS - 1, batch_size=20, new_clusters=1)
    assert few.outputs == 0 and few.credits(RULES["clustering"]) == 0


def test_clustering_dry_run_counts_new_clusters_and_joins_without_writing():
    words = ["espresso grind size", "espresso grinder settings", "best espresso grinder", "espresso tamping",
             "sourdough starter recipe", "feeding sourdough starter", "sourdough starter not rising"]
    kws = [KeywordIn(id=i + 1, keyword=w) for i, w in enumerate(words)]
    dry = s1_clustering.dry_run(kws, (), OfflineProvider())
    assert dry.joined == 0 and sum(dry.new_cluster_sizes) == len(words) and len(dry.new_cluster_sizes) >= 2
    existing = [ClusterRef(id=9, name="sourdough starter", keywords=("sourdough starter", "sourdough starter tips"))]
    joined = s1_clustering.dry_run(kws, existing, OfflineProvider())
    assert joined.joined >= 1 and joined.keywords_in_new_clusters == len(words) - joined.joined


def test_ideas_up_to_three_and_no_more_than_the_cluster_has_keywords():
    est = s2_ideas.estimate([17, 1, 2, 40])
    assert est.outputs == 3 + 1 + 2 + 3 and est.call_count == 4
    assert est.credits(RULES["ideas"]) == 2 * est.outputs
    assert s2_ideas.MAX_IDEAS_PER_CLUSTER == 3  # the same constant the stage uses


def test_ideas_learn_per_cluster_size_from_completed_runs():
    est = s2_ideas.estimate([17, 12, 3], ideas_by_size={10: 2.0, 3: 1.0})
    assert est.outputs == 2 + 2 + 1
    unseen = s2_ideas.estimate([4], ideas_by_size={10: 2.0})
    assert unseen.outputs == 3  # size never seen: the stage's own limit


def test_ideas_first_run_words_come_from_what_the_prompt_asks_for():
    prompt = (Path(s2_ideas.__file__).parents[2] / "ai" / "prompts" / "ideas.md").read_text()
    low, high = s2_ideas.ASKED_WORDS
    assert f"between {low} and {high}" in prompt
    assert s2_ideas.FIRST_RUN_WORDS == high


def test_tasks_are_local_and_free():
    est = s3_tasks.estimate(7)
    assert est.outputs == 7 and est.calls == () and est.credits(RULES["ideas"]) == 0


def test_content_is_charged_by_the_average_words_per_article():
    est = s4_content.estimate(4, words_per_article=1950)
    assert est.outputs == 4 and est.credits(RULES["content"]) == 4 * 20
    assert s4_content.estimate(0, words_per_article=1950).credits(RULES["content"]) == 0


def test_image_prompts_one_featured_plus_in_article_or_fewer_from_history():
    est = s5_image_prompts.estimate(10, in_article=2)
    assert est.outputs == 30 and est.credits(RULES["image_prompts"]) == 30
    assert s5_image_prompts.estimate(10, in_article=2, images_per_article=2.5).outputs == 25
    assert s5_image_prompts.estimate(10, in_article=50).outputs == 10 * (1 + s5_image_prompts.MAX_IN_ARTICLE)


def test_images_one_per_prompt():
    est = s6_images.estimate(12)
    assert est.outputs == 12 and est.credits(RULES["images"]) == 24


def test_compose_chains_the_stages_adds_what_is_pending_and_applies_caps():
    basis = Basis(config=CONFIG, new_clusters=3, cluster_sizes=(2, 17, 17, 17))  # one cluster already pending
    est = compose(RULES, {1: 51, 2: 1, 5: 0, 6: 4}, basis)
    assert est.items == {"keywords": 51, "clusters": 4, "ideas": 11, "tasks": 11, "content": 11, "images": 37}
    assert est.stages == {1: 12, 2: 22, 3: 0, 4: 11 * 25, 5: 33, 6: 74}
    capped = compose(RULES, {1: 51, 2: 1}, Basis(config={**CONFIG, "max_tasks_per_run": 2}, new_clusters=3,
                                                   cluster_sizes=(2, 17, 17, 17)))
    assert capped.items["tasks"] == 2 and capped.items["images"] == 6


def test_compose_skips_clustering_below_its_minimum():
    est = compose(RULES, {1: 3}, Basis(config=CONFIG, new_clusters=1, cluster_sizes=(3,)))
    assert est.stages[1] == 0 and est.items["clusters"] == 0 and sum(est.stages.values()) == 0


def test_typical_run_uses_the_platforms_averages(monkeypatch):
    import igny8_app.services.automation.estimate as mod

    avg = Averages(keywords_per_cluster=10.0, ideas_by_size={10: 2.0}, words_per_article=1500.0,
                   images_per_article=2.0, runs=3)
    monkeypatch.setattr(mod, "averages", lambda session, site_id: avg)
    typical = typical_run_cost(SimpleNamespace(), RULES)
    assert typical["items"]["clusters"] == 10 and typical["items"]["ideas"] == 20
    assert typical["total"] == 5 * 4 + 20 * 2 + 20 * 15 + 20 * 2 + 40 * 2


def _progress(stage, total, processed, credits, finished=False):
    return SimpleNamespace(stage=stage, total_items=total, processed_items=processed, failed_items=0,
                           credits_used=credits, finished_at=object() if finished else None)


def test_remaining_uses_the_runs_own_figures_and_scales_the_stages_not_started():
    pre = {"total": 1000, "stages": {"1": 40, "2": 60, "3": 0, "4": 600, "5": 100, "6": 200},
           "items": {"keywords": 200, "clusters": 10, "ideas": 30, "tasks": 30, "content": 30, "images": 90}}
    run = SimpleNamespace(status="running", stage_results={"estimate": pre}, config_snapshot={}, total_credits_used=0)
    assert remaining(run, {}) == 1000
    run.total_credits_used = 40 + 24
    # stage 1 done; stage 2 found 20 clusters (twice the estimate), 4 done at 6 credits each
    progress = {1: _progress(1, 200, 200, 40, finished=True), 2: _progress(2, 20, 4, 24)}
    assert remaining(run, progress) == 16 * 6 + 2 * (600 + 100 + 200)
    run.config_snapshot = {"max_credits_per_run": 500}
    assert remaining(run, progress) == 500 - 64
    run.status = "completed"
    assert remaining(run, progress) == 0
