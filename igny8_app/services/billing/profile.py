"""An account's billing settings: billing email, company, address, country, tax id, and the
low-balance threshold. Validated with messages fit to show next to the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from igny8_app.domain.errors import FieldErrors, NotFound  # noqa: F401 - FieldErrors: re-exported for the pages
from igny8_app.models import Account, utcnow
from igny8_app.services.billing import ledger as billing

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAX_ID = re.compile(r"^[A-Za-z0-9 .\-/]{2,64}$")
MAX_THRESHOLD = 10_000_000
# ISO 3166-1 alpha-2 codes (the assigned ones)
COUNTRIES = set("""AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ
FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP
MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE
RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW""".split())


@dataclass
class BillingSettings:
    billing_email: str = ""
    company: str = ""
    address: str = ""
    country: str = ""
    tax_id: str = ""
    low_balance_threshold: str | int = 500


def validate(data: BillingSettings) -> dict[str, Any]:
    errors: dict[str, str] = {}
    email = (data.billing_email or "").strip().lower()
    if email and (not _EMAIL.fullmatch(email) or len(email) > 254):
        errors["billing_email"] = f"'{email}' is not a valid email address."
    company = (data.company or "").strip()
    if len(company) > 200:
        errors["company"] = "The company name can have at most 200 characters."
    address = "\n".join(x.strip() for x in (data.address or "").strip().splitlines() if x.strip())
    if len(address) > 500:
        errors["address"] = "The address can have at most 500 characters."
    country = (data.country or "").strip().upper()
    if country and country not in COUNTRIES:
        errors["country"] = "Use a two-letter country code such as DE, GB or US."
    tax_id = (data.tax_id or "").strip()
    if tax_id and not _TAX_ID.fullmatch(tax_id):
        errors["tax_id"] = "A tax id has 2–64 letters, digits, spaces, dots, dashes or slashes."
    raw = str(data.low_balance_threshold).strip().replace(",", "").replace("_", "")
    threshold = 0
    if not re.fullmatch("[0-9]{1,15}", raw):  # ASCII: isdigit() takes '²', which int() refuses (a 500)
        errors["low_balance_threshold"] = "The low-balance threshold must be a whole number of credits (0 or more)."
    else:
        threshold = int(raw)
        if threshold > MAX_THRESHOLD:
            errors["low_balance_threshold"] = f"The low-balance threshold can be at most {MAX_THRESHOLD:,}."
    if errors:
        raise FieldErrors(errors)
    return {"billing_email": email or None, "company": company or None, "address": address or None,
            "country": country or None, "tax_id": tax_id or None, "low_balance_threshold": threshold}


def get_settings(*, session: Session, account_id: int) -> dict[str, Any]:
    a = session.get(Account, account_id)
    if a is None:
        raise NotFound("Account not found.")
    return {"billing_email": a.billing_email or "", "company": a.company or "", "address": a.address or "",
            "country": a.country or "", "tax_id": a.tax_id or "", "low_balance_threshold": a.low_balance_threshold}


def update_settings(*, session: Session, account_id: int, data: BillingSettings) -> dict[str, Any]:
    values = validate(data)
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("Account not found.")
    for k, v in values.items():
        setattr(account, k, v)
    session.add(account)
    session.flush()
    billing.track_low_balance(session=session, account=account)  # a new threshold may cross the balance
    return get_settings(session=session, account_id=account_id)


def low_balance_notice(*, session: Session, account_id: int) -> dict[str, Any] | None:
    """The open notice (balance below threshold since …, not dismissed), or None."""
    a = session.get(Account, account_id)
    if a is None or a.low_balance_since is None:
        return None
    if a.low_balance_dismissed_at is not None and a.low_balance_dismissed_at >= a.low_balance_since:
        return None
    return {"since": a.low_balance_since.isoformat(), "balance": a.credits, "threshold": a.low_balance_threshold}


def dismiss_low_balance(*, session: Session, account_id: int) -> None:
    a = session.get(Account, account_id)
    if a is None:
        raise NotFound("Account not found.")
    if a.low_balance_since is not None:
        a.low_balance_dismissed_at = utcnow()
        session.add(a)
