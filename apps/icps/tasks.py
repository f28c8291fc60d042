"""django-q2 entry points. Rescoring is idempotent: running it twice writes nothing the second time."""

from __future__ import annotations

from apps.icps.services import accounts_rescore


def rescore_all_accounts(reason: str = "") -> dict:
    result = accounts_rescore()
    return {"reason": reason, "accounts_written": result.accounts_written, "history_rows": result.history_rows}


def rescore_accounts(account_ids: list[int]) -> dict:
    result = accounts_rescore(account_ids=account_ids)
    return {"accounts_written": result.accounts_written, "history_rows": result.history_rows}
