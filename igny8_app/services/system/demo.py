"""Demo data: an account with an owner, an editor and a viewer (known passwords: a demo on the
operator's own machine), a platform superuser, one gardening site with ~200 keywords and 10,000
credits. Idempotent: running it twice changes nothing the second time.

The superuser can do anything on the platform, so its password is random (``secrets``), returned
once when it is created, and never again (only its hash is stored); ``igny8 force-password-reset
--print-password`` sets a new one. Demo data goes only into an empty database (no users) unless
asked for (``force``; IGNY8_DEMO=1), so it never lands next to real customers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from igny8_app.domain.enums import Role
from igny8_app.models import Site, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import ledger as billing
from igny8_app.services.content import keywords
from igny8_app.services.accounts import sites

DEMO_ACCOUNT = "Demo Gardens"
DEMO_OWNER = ("owner@demo.igny8.local", "demo-owner-pass")
DEMO_EDITOR = ("editor@demo.igny8.local", "demo-editor-pass")
DEMO_VIEWER = ("viewer@demo.igny8.local", "demo-viewer-pass")
DEMO_SUPERUSER_EMAIL = "admin@igny8.local"  # its password is random: see the module docstring
DEMO_SITE = ("Green Thumb Journal", "greenthumb-journal.com", ["Vegetables", "Flowers", "Lawn & Landscape"])
DEMO_CREDITS = 10_000

# Twelve topics, each a seed phrase and the modifiers people actually search with.
_TOPICS: dict[str, list[str]] = {
    # "{}" marks where the topic goes, "=" a complete phrase; otherwise the modifier comes first.
    "tomato plants": ["how to grow", "best fertilizer for", "when to plant", "pruning", "yellow leaves on",
                      "companion plants for", "staking", "watering schedule for", "common diseases of",
                      "growing {} in containers", "=heirloom tomato varieties", "=growing tomatoes from seed",
                      "blossom end rot on", "spacing {}", "when to harvest", "determinate vs indeterminate {}",
                      "=cherry tomato care"],
    "compost": ["how to make", "diy {} bin", "what can go in", "{} tumbler vs bin", "{} for beginners",
                "=worm composting at home", "why does my {} smell bad", "how long does {} take",
                "brown and green ratio for", "=composting in winter", "{} tea recipe", "best {} bin",
                "=hot composting method", "leaf mold vs", "=apartment composting", "{} accelerator",
                "how often to turn"],
    "raised garden beds": ["how to build", "best soil for", "cedar", "metal", "cost of", "ideal height of",
                           "what to plant in", "drainage for", "{} kits", "{} vs in-ground gardens", "lining",
                           "how to fill {} cheaply", "layout ideas for", "{} for vegetables", "{} on concrete",
                           "drip irrigation for", "winterizing"],
    "lawn care": ["spring {} schedule", "fall {} tips", "=how to overseed a lawn", "=best grass seed for shade",
                  "=lawn aeration", "=dethatching a lawn", "=brown patches in lawn", "=lawn fertilizer schedule",
                  "=best mowing height", "=lawn weed control", "organic", "=clover lawn pros and cons",
                  "=how often to water the lawn", "=moss in lawn", "=lawn grubs treatment", "=shade tolerant grass",
                  "=patchy lawn repair"],
    "houseplants": ["low light", "easy {} for beginners", "pet safe", "repotting", "overwatering signs in",
                    "fungus gnats in", "best potting soil for", "humidity for", "fertilizing",
                    "propagating", "why are my {} leaves yellow", "brown leaf tips on", "{} for bathrooms",
                    "hanging", "=large indoor plants", "rare", "winter care for"],
    "herbs": ["indoor {} garden", "best {} to grow indoors", "=growing basil", "=growing mint in pots",
              "=rosemary plant care", "how to dry fresh {}", "windowsill {} garden", "=cilantro bolting",
              "=growing parsley from seed", "=thyme plant care", "companion planting with",
              "{} garden layout", "kitchen {} garden", "perennial", "=how to harvest basil",
              "hydroponic", "=oregano plant care"],
    "roses": ["pruning", "how to plant", "black spot on", "best fertilizer for", "climbing",
              "aphids on", "winter protection for", "deadheading", "best varieties of", "knockout",
              "growing {} from cuttings", "yellow leaves on", "watering", "companion plants for",
              "transplanting", "soil ph for", "david austin"],
    "garden pests": ["natural {} control", "=getting rid of aphids", "=slugs and snails in the garden",
                     "japanese beetles", "neem oil for", "diatomaceous earth for", "=keeping squirrels out of the garden",
                     "=deer resistant plants", "cabbage worms", "=spider mites on plants", "whiteflies",
                     "beneficial insects for", "companion planting against", "organic {} spray",
                     "=squash vine borers", "cutworms", "=tomato hornworm"],
    "drip irrigation": ["diy {} system", "{} kit", "{} for raised beds", "{} timer", "{} vs soaker hose",
                        "{} layout", "{} emitters", "{} for containers", "{} water pressure", "installing",
                        "{} for vegetable garden", "winterize", "clogged {} emitters", "solar",
                        "automatic", "cost of", "{} tubing size"],
    "succulents": ["care for {} indoors", "propagating", "soil mix for", "watering", "leggy", "outdoor",
                   "{} arrangements", "why are my {} turning brown", "winter care for", "=echeveria care",
                   "=jade plant care", "=aloe vera plant care", "growing {} from leaves", "{} root rot",
                   "sunlight needs of", "best pots for", "cold hardy"],
    "vegetable garden": ["planning a", "{} layout", "{} for beginners", "=what to plant in march",
                         "crop rotation in a", "small space", "spring", "fall", "soil preparation for a",
                         "=companion planting chart", "zone 6", "container", "=succession planting",
                         "raised bed", "=shade tolerant vegetables", "fencing for a", "best mulch for a"],
    "hydrangeas": ["pruning", "changing the color of", "care for", "planting", "limelight", "why are my {} not blooming",
                   "best fertilizer for", "{} in pots", "drying", "why are my {} wilting", "winter care for",
                   "growing {} from cuttings", "soil ph for", "oakleaf", "endless summer",
                   "do {} need sun or shade", "transplanting"],
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
            phrase = m[1:] if m.startswith("=") else m.format(topic) if "{}" in m else f"{m} {topic}"
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


RECOVER_SUPERUSER = (f"igny8 force-password-reset --email {DEMO_SUPERUSER_EMAIL} --by {DEMO_SUPERUSER_EMAIL} "
                     "--print-password")


@dataclass
class DemoResult:
    created: bool
    account: str
    site_id: int
    #: (role, email, password); the superuser's password is None unless it was created just now
    logins: list[tuple[str, str, str | None]]
    skipped: bool = False  # the database has users and no demo account: nothing was created
    superuser_created: bool = False

    def text(self) -> str:
        """What `igny8 demo` prints (run.sh shows it in its banner)."""
        if self.skipped:
            return ("The database already has users and no demo account: no demo data created "
                    "(IGNY8_DEMO=1 creates it anyway).")
        lines = [("Created" if self.created else "Found") + f" demo account '{self.account}'. Logins:"]
        for role, email, password in self.logins:
            shown = password if password is not None else "(already exists; its password was shown once, when created)"
            lines.append(f"  {role:<10} {email:<28} {shown}")
        if self.superuser_created:
            lines.append(f"  The {DEMO_SUPERUSER_EMAIL} password is random and shown only now: keep it.")
        if any(role == "superuser" for role, _, _ in self.logins):
            lines.append(f"  Lost it? A new one: {RECOVER_SUPERUSER}")
        return "\n".join(lines)


def _superuser(session: Session) -> tuple[str | None, bool]:
    """Create the demo superuser with a fresh random password, unless it exists."""
    if session.exec(select(User.id).where(User.email == DEMO_SUPERUSER_EMAIL)).first() is not None:
        return None, False
    password = secrets.token_urlsafe(18)
    accounts.create_user(session=session, email=DEMO_SUPERUSER_EMAIL, password=password, is_superuser=True,
                         full_name="Platform Admin")
    return password, True


def create_demo(*, session: Session, force: bool = False) -> DemoResult:
    """Create the demo data on an empty database (no users), or on any database with ``force``.
    Found again on later calls: the account's logins, and the superuser without its password."""
    known = [("owner", *DEMO_OWNER), ("editor", *DEMO_EDITOR), ("viewer", *DEMO_VIEWER)]
    owner = session.exec(select(User).where(User.email == DEMO_OWNER[0])).one_or_none()
    if owner is not None:
        account = accounts.get_account_by_name(session=session, name=DEMO_ACCOUNT)
        site = session.exec(select(Site).where(Site.account_id == account.id).order_by(Site.id)).first()
        has_admin = session.exec(select(User.id).where(User.email == DEMO_SUPERUSER_EMAIL)).first() is not None
        return DemoResult(False, DEMO_ACCOUNT, site.id if site else 0,
                          known + ([("superuser", DEMO_SUPERUSER_EMAIL, None)] if has_admin else []))
    if not force and session.exec(select(User.id).limit(1)).first() is not None:
        return DemoResult(False, DEMO_ACCOUNT, 0, [], skipped=True)
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
    admin_password, admin_created = _superuser(session)
    site = sites.create_site(session=session, account_id=account.id, name=DEMO_SITE[0], domain=DEMO_SITE[1],
                             sectors=DEMO_SITE[2])
    sites.create_site(session=session, account_id=account.id, name="Urban Balcony Gardens",
                      domain="urban-balcony.com", sectors=["Containers"])
    keywords.import_keywords(session=session, site_id=site.id, data=demo_csv())
    billing.grant(session=session, account_id=account.id, amount=DEMO_CREDITS, idempotency_key="demo:initial-grant",
                  description="Demo credits")
    owner.active_site_id = site.id
    session.add(owner)
    return DemoResult(True, DEMO_ACCOUNT, site.id, known + [("superuser", DEMO_SUPERUSER_EMAIL, admin_password)],
                      superuser_created=admin_created)
