"""`intercom-sync query`'s connection: what it lets through (store/readonly.py). The CLI's
refusals, on SQLite and PostgreSQL, are in tests/e2e/test_cli_rough_edges.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercom_sync.store import open_store
from intercom_sync.store.readonly import QueryRefused, first_keyword, run_readonly


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        ("select 1", "select"),
        ("  \n\tWITH x AS (SELECT 1) SELECT * FROM x", "with"),
        ("-- a comment\nDELETE FROM t", "delete"),
        ("/* a\n comment */ (SELECT 1)", "select"),
        ("((VALUES (1)))", "values"),
        ("/* unclosed", ""),
        ("", ""),
    ],
)
def test_the_first_keyword_skips_space_comments_and_parentheses(sql: str, keyword: str) -> None:
    assert first_keyword(sql) == keyword


def test_reads_pass_and_the_first_refused_action_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url).close()
    columns, rows = run_readonly(url, "SELECT count(*) AS n FROM _schema_version")
    assert columns == ["n"] and rows[0][0] >= 1
    assert run_readonly(url, "EXPLAIN QUERY PLAN SELECT * FROM admins")[1]
    with pytest.raises(QueryRefused, match=r"^refused: ATTACH \(or VACUUM\)"):
        run_readonly(url, f"ATTACH '{tmp_path / 'x.db'}' AS x")
    assert not (tmp_path / "x.db").exists()
    with pytest.raises(QueryRefused, match=r"^refused: INSERT into admins;"):
        run_readonly(url, "INSERT INTO admins SELECT * FROM admins")
