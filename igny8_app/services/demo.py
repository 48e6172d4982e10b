"""Demo data: an account with an owner, a superuser, one gardening site with ~200 keywords and
10,000 credits. Idempotent: running it twice changes nothing the second time."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

from sqlmodel import Session, select

from igny8_app.domain.enums import Role
from igny8_app.models import Site, User
from igny8_app.services import accounts, billing, keywords, sites

DEMO_ACCOUNT = "Demo Gardens"
DEMO_OWNER = ("owner@demo.igny8.local", "demo-owner-pass")
DEMO_EDITOR = ("editor@demo.igny8.local", "demo-editor-pass")
DEMO_VIEWER = ("viewer@demo.igny8.local", "demo-viewer-pass")
DEMO_SUPERUSER = ("admin@igny8.local", "platform-admin-pass")
DEMO_SITE = ("Green Thumb Journal", "greenthumb-journal.com", ["Vegetables", "Flowers", "Lawn & Landscape"])
DEMO_CREDITS = 10_000

# Twelve topics, each a seed phrase and the modifiers people actually search with.
_TOPICS: dict[str, list[str]] = {
    "tomato plants": ["how to grow", "best fertilizer for", "when to plant", "pruning", "yellow leaves on",
                      "companion plants for", "staking", "watering schedule for", "diseases", "in containers",
                      "heirloom varieties", "growing from seed", "blossom end rot on", "spacing", "harvest time for",
                      "determinate vs indeterminate", "cherry"],
    "compost": ["how to make", "bin diy", "what can go in", "tumbler vs bin", "for beginners", "worm",
                "smells bad", "how long does take", "brown and green ratio", "in winter", "tea recipe",
                "best bin", "hot composting", "leaf mold", "apartment", "accelerator", "turning"],
    "raised garden beds": ["how to build", "best soil for", "cedar", "metal", "cost of", "height of",
                           "what to plant in", "drainage for", "kits", "vs in ground", "lining", "filling cheap",
                           "layout ideas", "for vegetables", "on concrete", "irrigation for", "winterizing"],
    "lawn care": ["spring schedule", "fall tips", "how to overseed", "best grass seed", "aeration", "dethatching",
                  "brown patches", "fertilizer schedule", "mowing height", "weed control", "organic",
                  "clover lawn", "watering", "moss in lawn", "grubs", "shade grass", "lawn repair"],
    "houseplants": ["low light", "easy", "pet safe", "repotting", "overwatering signs", "fungus gnats in",
                    "best soil for", "humidity for", "fertilizing", "propagation of", "yellow leaves",
                    "brown tips on", "for bathrooms", "hanging", "large", "rare", "winter care for"],
    "herb garden": ["indoor", "best herbs for", "basil growing", "growing mint in pots", "rosemary care",
                    "drying herbs from", "window sill", "cilantro bolting", "parsley from seed", "thyme",
                    "companion planting", "layout", "kitchen", "perennial herbs", "harvesting basil",
                    "hydroponic", "oregano"],
    "rose bushes": ["pruning", "how to plant", "black spot on", "fertilizer for", "climbing", "aphids on",
                    "winter protection", "deadheading", "best varieties of", "knockout", "from cuttings",
                    "yellow leaves", "watering", "companion plants for", "transplanting", "soil ph for",
                    "david austin"],
    "garden pests": ["natural control", "aphids", "slugs and snails", "japanese beetles", "neem oil for",
                     "diatomaceous earth", "squirrels in", "deer resistant plants", "cabbage worms",
                     "spider mites", "whiteflies", "beneficial insects", "companion planting against",
                     "organic spray", "vine borers", "cutworms", "tomato hornworm"],
    "drip irrigation": ["system diy", "kit", "for raised beds", "timer", "vs soaker hose", "layout",
                        "emitters", "for containers", "water pressure", "installation", "for vegetable garden",
                        "winterize", "clogged emitters", "solar", "automatic", "cost", "tubing size"],
    "succulents": ["care indoors", "propagation of", "soil mix", "watering", "leggy", "outdoor", "arrangements",
                   "turning brown", "winter care", "echeveria", "jade plant", "aloe vera care",
                   "from leaves", "rot", "sunlight needs", "pots for", "hardy"],
    "vegetable garden": ["planning", "layout", "for beginners", "what to plant in march", "crop rotation",
                         "small space", "spring", "fall", "soil preparation", "companion planting chart",
                         "zone 6", "container", "succession planting", "raised bed", "shade tolerant",
                         "fencing", "mulch for"],
    "hydrangeas": ["pruning", "changing color of", "care", "planting", "limelight", "not blooming",
                   "fertilizer for", "in pots", "drying", "wilting", "winter care", "from cuttings",
                   "soil ph", "oakleaf", "endless summer", "sun or shade", "transplanting"],
}


def _intent(phrase: str) -> str:
    words = set(phrase.split())
    if words & {"best", "vs", "cost", "kits", "kit", "varieties"}:
        return "commercial"
    if words & {"buy", "diy", "cheap"}:
        return "transactional"
    if words & {"knockout", "limelight", "austin", "endless"}:
        return "navigational"
    return "informational"


def demo_keywords() -> list[dict]:
    """~200 deterministic keyword rows (volume, difficulty, intent derived from a hash)."""
    out = []
    for topic, modifiers in _TOPICS.items():
        for m in modifiers:
            phrase = f"{m} {topic}"
            h = int(hashlib.sha256(phrase.encode()).hexdigest(), 16)
            intent = _intent(phrase)
            out.append({"keyword": phrase, "volume": 50 + h % 9_950, "difficulty": 1 + h % 5, "intent": intent})
    return out


def demo_csv() -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["keyword", "volume", "difficulty", "intent"])
    w.writeheader()
    w.writerows(demo_keywords())
    return buf.getvalue().encode()


@dataclass
class DemoResult:
    created: bool
    account: str
    site_id: int
    logins: list[tuple[str, str, str]]


def create_demo(*, session: Session) -> DemoResult:
    logins = [("owner", *DEMO_OWNER), ("editor", *DEMO_EDITOR), ("viewer", *DEMO_VIEWER),
              ("superuser", *DEMO_SUPERUSER)]
    owner = session.exec(select(User).where(User.email == DEMO_OWNER[0])).one_or_none()
    if owner is not None:
        account = accounts.get_account_by_name(session=session, name=DEMO_ACCOUNT)
        site = session.exec(select(Site).where(Site.account_id == account.id).order_by(Site.id)).first()
        return DemoResult(False, DEMO_ACCOUNT, site.id if site else 0, logins)
    owner = accounts.create_user(session=session, email=DEMO_OWNER[0], password=DEMO_OWNER[1],
                                 account_name=DEMO_ACCOUNT, role=Role.OWNER, full_name="Olivia Owner")
    account = accounts.get_account_by_name(session=session, name=DEMO_ACCOUNT)
    account.billing_email = "billing@greenthumb-journal.com"
    account.company = "Demo Gardens Ltd"
    account.country = "GB"
    session.add(account)
    accounts.create_user(session=session, email=DEMO_EDITOR[0], password=DEMO_EDITOR[1], account_name=DEMO_ACCOUNT,
                         role=Role.EDITOR, full_name="Eddie Editor")
    accounts.create_user(session=session, email=DEMO_VIEWER[0], password=DEMO_VIEWER[1], account_name=DEMO_ACCOUNT,
                         role=Role.VIEWER, full_name="Vera Viewer")
    if session.exec(select(User).where(User.email == DEMO_SUPERUSER[0])).one_or_none() is None:
        accounts.create_user(session=session, email=DEMO_SUPERUSER[0], password=DEMO_SUPERUSER[1],
                             is_superuser=True, full_name="Platform Admin")
    site = sites.create_site(session=session, account_id=account.id, name=DEMO_SITE[0], domain=DEMO_SITE[1],
                             sectors=DEMO_SITE[2])
    sites.create_site(session=session, account_id=account.id, name="Urban Balcony Gardens",
                      domain="urban-balcony.com", sectors=["Containers"])
    keywords.import_keywords(session=session, site_id=site.id, data=demo_csv())
    billing.grant(session=session, account_id=account.id, amount=DEMO_CREDITS, idempotency_key="demo:initial-grant",
                  description="Demo credits")
    owner.active_site_id = site.id
    session.add(owner)
    return DemoResult(True, DEMO_ACCOUNT, site.id, logins)
