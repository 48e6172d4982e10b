"""The credits a run would need: one estimator for the pre-run estimate, the estimate of what a
running run still needs, and the admin's price preview.

Each stage estimates its own output (``estimate`` in its ``pipeline/stages`` module); this module
chains them through the queues, adds what is already pending, applies the per-run caps, and prices
every stage with the credit cost rules. The stages learn from the site's completed runs
(keywords per cluster, ideas per cluster, words per article, images per article); on a site's
first run they use their own parameters, and clustering alone is dry-run: the offline clusterer
on the pending keywords (a sample of at most ``DRY_RUN_SAMPLE``), nothing written or charged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.ai.base import KeywordIn
from igny8_app.ai.offline import OfflineProvider
from igny8_app.domain.costs import CostRule, StageEstimate
from igny8_app.domain.enums import RunStatus
from igny8_app.models import AutomationRun, Cluster, Content, ContentIdea, Keyword, StageProgress
from igny8_app.pipeline.stages import STAGES, s1_clustering
from igny8_app.pipeline.stages.forecast import SIZE_BUCKETS, Averages, Basis
from igny8_app.services.automation import stage_items
from igny8_app.services.billing.ledger import cost_rule, list_cost_configs

DRY_RUN_SAMPLE = 2_000  # keywords the clusterer dry-runs at most; more are scaled from the sample
HISTORY_RUNS = 10  # the site's last completed runs its averages come from
PREVIEW_KEYWORDS = 100  # the admin's typical run
PREVIEW_CONFIG = {"stage_1_batch_size": 20, "in_article_images": 1}






def _cap(n: int, cap: Any) -> int:
    return n if cap is None else max(0, min(n, int(cap)))


@dataclass
class Estimate:
    stages: dict[int, int] = field(default_factory=dict)  # credits per stage
    items: dict[str, int] = field(default_factory=dict)  # items each stage takes

    def as_dict(self, credit_cap: Any = None, **extra: Any) -> dict[str, Any]:
        total = sum(self.stages.values())
        if credit_cap is not None:
            total = min(total, int(credit_cap))
        return {"total": total, "stages": {str(k): v for k, v in self.stages.items()}, "items": dict(self.items),
                **extra}


def compose(rules: dict[str, CostRule], pending: dict[int, int], basis: Basis) -> Estimate:
    """Chain the stage estimates: each stage takes what is pending in its queue plus what the
    stage before it makes, up to its per-run cap, and is priced with its operation's rule. Pure."""
    out = Estimate()
    carried = 0
    for st in STAGES:
        n = pending.get(st.number, 0) + carried
        if st.cap_key:
            n = _cap(n, basis.config.get(st.cap_key))
        est = st.estimate(n, basis) if st.estimate is not None else StageEstimate(n)  # no hook: hands on what it takes
        op = st.operation_type.value if st.operation_type is not None else None
        out.stages[st.number] = est.credits(rules[op]) if op is not None else 0
        out.items[st.queue.name] = n
        carried = est.outputs
    return out


# --- reading the database ------------------------------------------------------------------------

def averages(session: Session, site_id: int | None) -> Averages:
    """The averages of the site's last completed runs (``site_id`` None: the platform's)."""
    q = select(AutomationRun.id, AutomationRun.run_id).where(AutomationRun.status == RunStatus.COMPLETED.value)
    if site_id is not None:
        q = q.where(AutomationRun.site_id == site_id)
    runs = session.exec(q.order_by(AutomationRun.id.desc()).limit(HISTORY_RUNS)).all()
    if not runs:
        return Averages()
    pks, ids = [r[0] for r in runs], [r[1] for r in runs]
    done = dict(session.execute(sa.select(StageProgress.stage, sa.func.sum(StageProgress.processed_items))
                                .where(StageProgress.run_pk.in_(pks)).group_by(StageProgress.stage)).all())
    made, in_made = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Cluster.keywords_count), 0))
                                    .where(Cluster.run_id.in_(ids))).one()
    words = session.execute(sa.select(sa.func.avg(Content.word_count)).where(Content.run_id.in_(ids))).scalar_one()
    by_size = _ideas_by_size(session, ids)
    foreseen = made_then = 0
    for run_id, results in session.execute(sa.select(AutomationRun.run_id, AutomationRun.stage_results)
                                           .where(AutomationRun.id.in_(pks))).all():
        dry = ((results or {}).get("estimate") or {}).get("dry_run_clusters")
        if dry:
            foreseen += dry
            made_then += session.execute(sa.select(sa.func.count()).where(Cluster.run_id == run_id)).scalar_one()

    def ratio(a: Any, b: Any) -> float | None:
        return float(a) / float(b) if a and b else None

    return Averages(keywords_per_cluster=ratio(in_made, made), ideas_per_cluster=ratio(done.get(3), done.get(2)),
                    ideas_by_size=by_size, clusters_vs_dry_run=ratio(made_then, foreseen),
                    words_per_article=float(words) if words else None,
                    images_per_article=ratio(done.get(6), done.get(5)), runs=len(runs))



def _ideas_by_size(session: Session, run_ids: list[str]) -> dict[int, float]:
    """Ideas per cluster by the cluster's size, over the clusters these runs made and gave ideas."""
    size = sa.func.least(Cluster.keywords_count, SIZE_BUCKETS) if session.get_bind().dialect.name != "sqlite" \
        else sa.func.min(Cluster.keywords_count, SIZE_BUCKETS)
    ideas = (sa.select(ContentIdea.cluster_id, sa.func.count().label("n")).group_by(ContentIdea.cluster_id)
             .subquery())
    rows = session.execute(sa.select(size, sa.func.avg(ideas.c.n)).join(ideas, ideas.c.cluster_id == Cluster.id)
                           .where(Cluster.run_id.in_(run_ids)).group_by(size)).all()
    return {int(s): float(a) for s, a in rows}


def _rules(session: Session) -> dict[str, CostRule]:
    return {st.operation_type.value: cost_rule(session, st.operation_type.value)
            for st in STAGES if st.operation_type is not None}


_DRY_RUNS: dict[tuple, s1_clustering.DryRun] = {}  # the last dry runs, by what they saw


def _dry_run(session: Session, site_id: int, keywords: int) -> tuple[s1_clustering.DryRun, float]:
    """The offline clusterer over the next ``keywords`` pending keywords (at most DRY_RUN_SAMPLE of
    them) and the site's clusters; and the factor from the sample to all of them. Cached on what
    it saw, so a page reloaded with nothing changed does not cluster again."""
    rows = session.exec(select(Keyword).where(Keyword.site_id == site_id, Keyword.status == "new")
                        .order_by(Keyword.id).limit(min(keywords, DRY_RUN_SAMPLE))).all()
    existing = s1_clustering.existing_clusters(session, site_id)
    key = (site_id, len(rows), rows[0].id if rows else 0, rows[-1].id if rows else 0, len(existing),
           max((c.id for c in existing), default=0))
    dry = _DRY_RUNS.get(key)
    if dry is None:
        sample = [KeywordIn(id=k.id, keyword=k.keyword, volume=k.volume or 0, difficulty=k.difficulty,
                            intent=k.intent) for k in rows]
        dry = s1_clustering.dry_run(sample, existing, OfflineProvider())
        if len(_DRY_RUNS) >= 64:
            _DRY_RUNS.pop(next(iter(_DRY_RUNS)))
        _DRY_RUNS[key] = dry
    return dry, (keywords / len(rows) if rows else 0.0)


def _pending_cluster_sizes(session: Session, site_id: int) -> tuple[int, ...]:
    return tuple(session.exec(select(Cluster.keywords_count).where(Cluster.site_id == site_id, Cluster.status == "new")
                              .order_by(Cluster.id)).all())


def site_basis(session: Session, site_id: int, config: dict[str, Any], pending: dict[int, int]) -> Basis:
    """What the site's estimate goes on: its completed runs (where they measured nothing, the
    platform's), the clusters waiting for ideas, and the clustering dry run."""
    avg = averages(session, site_id)
    if None in (avg.words_per_article, avg.images_per_article, avg.clusters_vs_dry_run) or not avg.ideas_by_size:
        platform = averages(session, None)
        avg = replace(avg, **{k: getattr(platform, k) for k in ("words_per_article", "images_per_article",
                                                                "clusters_vs_dry_run", "ideas_by_size")
                              if getattr(avg, k) in (None, {})})
    basis = Basis(config=config, averages=avg, cluster_sizes=_pending_cluster_sizes(session, site_id))
    kw = _cap(pending.get(1, 0), config.get("max_keywords_per_run"))
    if kw < s1_clustering.MIN_NEW_KEYWORDS:
        return basis
    dry, scale = _dry_run(session, site_id, kw)
    foreseen = round(len(dry.new_cluster_sizes) * scale)
    made = round(foreseen * (avg.clusters_vs_dry_run or 1.0))
    sizes = dry.new_cluster_sizes or (s1_clustering.MIN_NEW_KEYWORDS,)
    sizes = tuple(sizes[k % len(sizes)] for k in range(made))
    return replace(basis, new_clusters=made, cluster_sizes=basis.cluster_sizes + sizes, dry_run_clusters=foreseen)


def estimate_for_site(*, session: Session, site_id: int, config: dict[str, Any]) -> dict[str, Any]:
    """The credits a run started now would use: ``{"total", "stages", "items", "basis"}``."""
    pending = {st.number: stage_items.count_eligible(session, st.number, site_id) for st in STAGES}
    basis = site_basis(session, site_id, config, pending)
    est = compose(_rules(session), pending, basis)
    how = "site history" if basis.averages.runs else "stage parameters"
    return est.as_dict(config.get("max_credits_per_run"), dry_run_clusters=basis.dry_run_clusters,
                       basis=how + (" and a clustering dry run" if basis.dry_run_clusters is not None else ""))


# --- the admin's price preview ---------------------------------------------------------------------

def typical_run_cost(session: Session, rules_by_op: dict[str, CostRule] | None = None, *,
                     keywords: int = PREVIEW_KEYWORDS) -> dict[str, Any]:
    """What a typical run over ``keywords`` new keywords costs under ``rules_by_op`` (default: the
    prices now): the same stage estimates, with the platform's completed runs as the history;
    with none, the clusterer dry-runs the platform's latest keywords."""
    rules = rules_by_op or {c.operation_type: CostRule(c.credits_cost, c.unit, c.tokens_per_credit, c.min_credits,
                                                       c.is_active) for c in list_cost_configs(session=session)}
    avg = averages(session, None)
    basis = Basis(config=PREVIEW_CONFIG, averages=avg)
    kpc = avg.keywords_per_cluster
    if kpc is None:
        sample = session.exec(select(Keyword).order_by(Keyword.id.desc()).limit(keywords)).all()
        dry = s1_clustering.dry_run([KeywordIn(id=k.id, keyword=k.keyword, volume=k.volume or 0) for k in sample],
                                    (), OfflineProvider())
        kpc = (len(sample) / len(dry.new_cluster_sizes)) if dry.new_cluster_sizes else s1_clustering.MIN_NEW_KEYWORDS
    made = math.ceil(keywords / kpc) if keywords >= s1_clustering.MIN_NEW_KEYWORDS else 0
    basis = replace(basis, new_clusters=made, cluster_sizes=(max(1, round(kpc)),) * made)
    est = compose(rules, {1: keywords}, basis)
    return {"keywords": est.items["keywords"], "total": sum(est.stages.values()),
            "stages": {(st.operation_type.value if st.operation_type else str(st.number)): est.stages[st.number]
                       for st in STAGES if st.operation_type is not None},
            "items": {k: v for k, v in est.items.items() if k != "keywords"}}


def price_preview(*, session: Session, proposed: dict[str, CostRule]) -> dict[str, Any]:
    """The typical run's cost now, and under ``proposed`` prices (nothing is saved)."""
    return {"current": typical_run_cost(session), "proposed": typical_run_cost(session, proposed)}


# --- during a run ----------------------------------------------------------------------------------

def remaining(run: AutomationRun, progress: dict[int, Any]) -> int:
    """The credits a run still needs, from its own figures so far (no dry run): each started
    stage's items left at its credits per item so far (the estimate's until it has done one), and
    the stages not started at their estimate, scaled by how the latest started stage's item count
    compared with its estimate. ``progress``: the run's StageProgress rows by stage."""
    if run.status not in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
        return 0
    pre = (run.stage_results or {}).get("estimate") or {}
    credits, items = pre.get("stages") or {}, pre.get("items") or {}
    scale, total = 1.0, 0.0
    for st in STAGES:
        expected_items = float(items.get(st.queue.name) or 0)
        expected = float(credits.get(str(st.number)) or 0)
        p = progress.get(st.number)
        if p is None:
            total += expected * scale
            continue
        if expected_items:
            scale = p.total_items / expected_items
        if p.finished_at is not None:
            continue
        per_item = p.credits_used / p.processed_items if p.processed_items else (
            expected / expected_items if expected_items else 0.0)
        total += max(0, p.total_items - p.processed_items - p.failed_items) * per_item
    left = math.ceil(total)
    cap = (run.config_snapshot or {}).get("max_credits_per_run")
    return left if cap is None else max(0, min(left, int(cap) - run.total_credits_used))


# --- the command line -------------------------------------------------------------------------------

def summary(est: dict[str, Any]) -> dict[str, Any]:
    """``{"total", "stages", "items"}``: what ``igny8 run estimate`` prints (the API and the
    Automation page show the same figures, from the same estimate)."""
    return {"total": est["total"], "stages": est["stages"], "items": est["items"]}


def summary_text(est: dict[str, Any]) -> str:
    stages = ", ".join(f"stage {k} {v:,}" for k, v in est["stages"].items())
    items = ", ".join(f"{v:,} {k}" for k, v in est["items"].items())
    return f"About {est['total']:,} credits ({stages}); items: {items}."
