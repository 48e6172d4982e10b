"""Keyword import and listing against a real database, and the CLI that drives them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from igny8_app import db as dbmod
from igny8_app.domain.errors import ImportRejected, NotFound
from igny8_app.models import Account, ApiToken, Keyword, Membership, Site, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.content import keywords
from igny8_app.settings import REPO_ROOT
from tests.factories import make_account, make_site, make_user


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def site_keywords(session, site_id: int) -> dict[str, Keyword]:
    return {k.keyword_norm: k for k in session.exec(select(Keyword).where(Keyword.site_id == site_id))}


@pytest.fixture
def site(session) -> Site:
    return make_site(session, make_account(session))


# --- import_keywords ----------------------------------------------------------------------------

def test_import_inserts_valid_rows_with_their_fields(session, site) -> None:
    calls: list[tuple[int, int]] = []
    result = keywords.import_keywords(session=session, site_id=site.id, progress=lambda d, t: calls.append((d, t)),
                                      data=csv("keyword,volume,difficulty,intent", "Best Shoes,100,2,Commercial",
                                               "ÄPFEL kaufen,,,"))
    assert result.as_dict() == {"imported": 2, "duplicates": 0, "invalid": 0, "errors": []}
    rows = site_keywords(session, site.id)
    shoes, apples = rows["best shoes"], rows["äpfel kaufen"]
    assert (shoes.keyword, shoes.volume, shoes.difficulty, shoes.intent, shoes.status) == (
        "Best Shoes", 100, 2, "commercial", "new")
    assert (apples.keyword, apples.volume, apples.difficulty, apples.intent) == ("ÄPFEL kaufen", 0, None, None)
    assert calls[0] == (0, 2) and calls[-1] == (2, 2)


def test_existing_keywords_are_skipped_and_counted_including_unicode_case(session, site) -> None:
    keywords.import_keywords(session=session, site_id=site.id, data=csv("keyword,volume", "Äpfel,10", "Straße,5"))
    result = keywords.import_keywords(session=session, site_id=site.id, data=csv(
        "keyword,volume", "ÄPFEL,99", "äpfel,98", "STRASSE,97", "ＳＴＲＡＳＳＥ,96", "birnen,1", "Birnen,2"))
    assert (result.imported, result.duplicates, result.invalid) == (1, 5, 0)
    rows = site_keywords(session, site.id)
    assert set(rows) == {"äpfel", "strasse", "birnen"}
    assert (rows["äpfel"].keyword, rows["äpfel"].volume) == ("Äpfel", 10)  # the original is untouched
    assert (rows["strasse"].keyword, rows["birnen"].volume) == ("Straße", 1)


def test_manually_added_keyword_is_a_duplicate_on_import(session, site) -> None:
    keywords.add_keyword(session=session, site_id=site.id, keyword="Grüße")
    result = keywords.import_keywords(session=session, site_id=site.id, data=csv("keyword", "GRÜSSE"))
    assert (result.imported, result.duplicates) == (0, 1)


def test_invalid_rows_are_reported_and_not_inserted(session, site) -> None:
    result = keywords.import_keywords(session=session, site_id=site.id, data=csv(
        "keyword,volume,difficulty,intent",  # 1
        "good one,10,3,informational",  # 2
        "bad volume,-1,,",  # 3
        "",  # 4
        "bad difficulty,,9,",  # 5
        "bad intent,,,maybe",  # 6
        ",5,,",  # 7
        "ß" * 200 + ",,,",  # 8: 400 characters once casefolded
        "good two,,,",  # 9
    ))
    assert (result.imported, result.duplicates, result.invalid) == (2, 0, 5)
    assert [e["line"] for e in result.as_dict()["errors"]] == [3, 5, 6, 7, 8]
    assert "volume" in result.errors[0].reason and "difficulty" in result.errors[1].reason
    assert "intent" in result.errors[2].reason and "empty" in result.errors[3].reason
    assert "longer than 255" in result.errors[4].reason
    assert set(site_keywords(session, site.id)) == {"good one", "good two"}


def test_a_fatal_error_imports_nothing(db, monkeypatch) -> None:
    # a row limit above one insert chunk: a streaming import would already have written rows
    monkeypatch.setattr("igny8_app.domain.keyword_csv.MAX_IMPORT_ROWS", keywords.INSERT_CHUNK + 500)
    with dbmod.write_session() as s:
        site_id = make_site(s, make_account(s)).id
    fatal = [
        (csv("keyword", "fine", "also fine") + "Äpfel\n".encode("latin-1"), "line 4"),  # bad encoding
        (csv("term,volume", "fine,1"), "'keyword' column"),
        (b'keyword\nfine\n"' + b"x" * 200_000, "not valid CSV"),  # broken CSV at the very end
        (csv("keyword", *(f"k{i}" for i in range(keywords.INSERT_CHUNK + 501))), "more than 2,500 rows"),
    ]
    for data, message in fatal:
        with pytest.raises(ImportRejected, match=message):
            with dbmod.write_session() as s:
                keywords.import_keywords(session=s, site_id=site_id, data=data)
        with dbmod.read_session() as s:
            assert site_keywords(s, site_id) == {}


def test_unknown_site_is_not_found(session) -> None:
    with pytest.raises(NotFound):
        keywords.import_keywords(session=session, site_id=424242, data=csv("keyword", "x"))


def test_same_keyword_is_allowed_on_two_sites(session) -> None:
    acc = make_account(session)
    one, two = make_site(session, acc), make_site(session, acc)
    other = make_site(session, make_account(session))
    for s in (one, two, other):
        result = keywords.import_keywords(session=session, site_id=s.id, data=csv("keyword", "Äpfel", "shoes"))
        assert (result.imported, result.duplicates) == (2, 0)
    for s in (one, two, other):
        assert set(site_keywords(session, s.id)) == {"äpfel", "shoes"}


@pytest.mark.slow
def test_a_100k_row_import(session, site) -> None:
    lines = ["keyword,volume,difficulty,intent"]
    lines += [f"keyword {i:06d},{i},{i % 5 + 1},informational" for i in range(100_000)]
    result = keywords.import_keywords(session=session, site_id=site.id, data=csv(*lines))
    assert (result.imported, result.duplicates, result.invalid) == (100_000, 0, 0)
    count = session.execute(sa.select(sa.func.count()).select_from(Keyword).where(Keyword.site_id == site.id))
    assert count.scalar_one() == 100_000
    page = keywords.list_keywords(session=session, site_id=site.id, sort="volume", descending=True, page=2,
                                  page_size=25)
    assert page.total == 100_000 and page.pages == 4_000
    assert [r["volume"] for r in page.rows] == list(range(99_974, 99_949, -1))


# --- list_keywords ------------------------------------------------------------------------------

@pytest.fixture
def listed(session, site) -> Site:
    rows = ["keyword,volume,difficulty", "Äpfel kaufen,300,2", "apfelkuchen,50,1", "100% cotton,10,",
            "cotton_candy,10,", "cotton candy,20,5"]
    rows += [f"filler {i:02d},{i},3" for i in range(60)]
    keywords.import_keywords(session=session, site_id=site.id, data=csv(*rows))
    session.execute(sa.update(Keyword).where(Keyword.site_id == site.id,
                                             Keyword.keyword.in_(["apfelkuchen", "cotton candy", "filler 07"]))
                    .values(status="mapped"))
    other = make_site(session, make_account(session))
    keywords.import_keywords(session=session, site_id=other.id, data=csv("keyword", "Äpfel kaufen", "cotton"))
    return site


def names(page) -> list[str]:
    return [r["keyword"] for r in page.rows]


def test_list_search_is_normalised_and_scoped_to_the_site(session, listed) -> None:
    page = keywords.list_keywords(session=session, site_id=listed.id, search="  ÄPFEL ")
    assert names(page) == ["Äpfel kaufen"] and page.total == 1
    page = keywords.list_keywords(session=session, site_id=listed.id, search="ＣＯＴＴＯＮ", sort="keyword",
                                  descending=False)
    assert names(page) == ["100% cotton", "cotton candy", "cotton_candy"]


def test_list_search_treats_wildcards_literally(session, listed) -> None:
    for search, expected in [("%", ["100% cotton"]), ("_", ["cotton_candy"]), ("n_c", ["cotton_candy"]),
                             ("0%", ["100% cotton"]), ("\\", []), ("zzz", [])]:
        assert names(keywords.list_keywords(session=session, site_id=listed.id, search=search)) == expected, search


def test_list_status_filter(session, listed) -> None:
    page = keywords.list_keywords(session=session, site_id=listed.id, status="mapped", sort="keyword",
                                  descending=False)
    assert names(page) == ["apfelkuchen", "cotton candy", "filler 07"] and page.total == 3
    assert keywords.list_keywords(session=session, site_id=listed.id, status="failed").total == 0
    page = keywords.list_keywords(session=session, site_id=listed.id, status="mapped", search="cotton")
    assert names(page) == ["cotton candy"]
    assert keywords.keyword_counts(session=session, site_id=listed.id) == {"new": 62, "mapped": 3}


def test_list_sorting(session, listed) -> None:
    desc = keywords.list_keywords(session=session, site_id=listed.id, sort="volume", page_size=25)
    assert names(desc)[:3] == ["Äpfel kaufen", "filler 59", "filler 58"]
    vols = [r["volume"] for r in desc.rows]
    assert vols == sorted(vols, reverse=True)
    asc = keywords.list_keywords(session=session, site_id=listed.id, sort="volume", descending=False, page_size=25)
    # equal volumes are ordered by id (import order), in the sort's direction
    assert names(asc)[:4] == ["filler 00", "filler 01", "filler 02", "filler 03"]
    assert names(asc)[10:13] == ["100% cotton", "cotton_candy", "filler 10"]
    by_kw = keywords.list_keywords(session=session, site_id=listed.id, sort="keyword", descending=False)
    assert names(by_kw)[:3] == ["100% cotton", "apfelkuchen", "cotton candy"]
    newest = keywords.list_keywords(session=session, site_id=listed.id)  # default: newest first
    assert names(newest)[0] == "filler 59"
    bogus = keywords.list_keywords(session=session, site_id=listed.id, sort="id; DROP TABLE keyword", descending=False)
    assert names(bogus)[0] == "Äpfel kaufen"


def test_list_pagination(session, listed) -> None:
    seen: list[int] = []
    for n in (1, 2, 3):
        page = keywords.list_keywords(session=session, site_id=listed.id, sort="keyword", descending=False,
                                      page=n, page_size=25)
        assert (page.total, page.pages, page.page, page.page_size) == (65, 3, n, 25)
        assert len(page.rows) == (25 if n < 3 else 15)
        seen += [r["id"] for r in page.rows]
    assert len(seen) == len(set(seen)) == 65
    assert keywords.list_keywords(session=session, site_id=listed.id, page=4, page_size=25).rows == []
    odd = keywords.list_keywords(session=session, site_id=listed.id, page=0, page_size=7)
    assert (odd.page, odd.page_size, len(odd.rows)) == (1, 50, 50)
    empty = keywords.list_keywords(session=session, site_id=listed.id, search="nothing like this")
    assert (empty.total, empty.pages, empty.rows) == (0, 1, [])


# --- CLI ----------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "igny8_app.cli", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def test_cli_create_user_site_and_import(db, tmp_path: Path) -> None:
    r = cli("create-user", "--email", "Owner@Example.com", "--password", "long-enough-pw", "--account", "Acme",
            "--json")
    assert r.returncode == 0, r.stderr
    user = json.loads(r.stdout)
    assert user["email"] == "owner@example.com"
    with dbmod.read_session() as s:
        acc = s.exec(select(Account).where(Account.name == "Acme")).one()
        assert s.exec(select(Membership.role).where(Membership.user_id == user["id"],
                                                    Membership.account_id == acc.id)).one() == "owner"

    r = cli("create-site", "--account", "Acme", "--name", "Blog", "--domain", "blog.example.com", "--json")
    assert r.returncode == 0, r.stderr
    created = json.loads(r.stdout)
    assert list(created) == ["id"] and isinstance(created["id"], int)

    with dbmod.write_session() as s:
        keywords.import_keywords(session=s, site_id=created["id"], data=csv("keyword", "already here"))
    path = tmp_path / "kw.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv("keyword,volume", "New One,5", "ALREADY HERE,1", "new one,2",
                                           "broken,lots").replace(b"\n", b"\r\n"))
    r = cli("import-keywords", "--site", str(created["id"]), str(path), "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == json.dumps(
        {"imported": 1, "duplicates": 2, "invalid": 1, "errors": [{"line": 5, "reason": "volume must be an integer, got 'lots'"}]})
    with dbmod.read_session() as s:
        assert set(site_keywords(s, created["id"])) == {"already here", "new one"}


def test_cli_refusals_exit_1_with_json_on_stderr(db, tmp_path: Path) -> None:
    with dbmod.write_session() as s:
        site_id = make_site(s, make_account(s)).id
    path = tmp_path / "bad.csv"
    path.write_bytes(csv("keyword", "fine") + "Äpfel\n".encode("cp1252"))
    r = cli("import-keywords", "--site", str(site_id), str(path), "--json")
    assert r.returncode == 1 and r.stdout == ""
    err = json.loads(r.stderr)
    assert err["error"] == "invalid" and "line 3" in err["detail"]
    with dbmod.read_session() as s:
        assert site_keywords(s, site_id) == {}


def test_cli_api_token_is_usable_and_only_its_hash_is_stored(db) -> None:
    with dbmod.write_session() as s:
        user_id = make_user(s, email="api@example.com").id
    r = cli("api-token", "--email", "API@example.com", "--name", "ci")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("igny8_") and len(token) > 40
    with dbmod.write_session() as s:
        assert accounts.resolve_api_token(session=s, token=token).id == user_id
        row = s.exec(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = s.execute(sa.select(ApiToken.__table__)).one()
        assert not any(token in str(v) for v in stored)  # no column holds the plain token
        assert s.get(User, user_id).email == "api@example.com"
    with dbmod.write_session() as s:
        with pytest.raises(Exception) as info:
            accounts.resolve_api_token(session=s, token=token[:-1] + ("A" if token[-1] != "A" else "B"))
        assert type(info.value).__name__ == "Unauthenticated"
