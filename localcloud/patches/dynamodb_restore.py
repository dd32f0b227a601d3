"""DynamoDB ``RestoreTableToPointInTime`` as strict as AWS's.

moto 5.2.5 (``DynamoDBBackend.restore_table_to_point_in_time``, its docstring: "only accepts the
source and target table elements, and will copy all items from the source without respect to
other arguments") restores any table, PITR on or off, to any time, and ignores
``SourceTableArn``. AWS (RestoreTableToPointInTime API reference):

- the source is named by ``SourceTableName`` or ``SourceTableArn``;
- a source without point-in-time recovery enabled is refused with
  ``PointInTimeRecoveryUnavailableException``;
- ``RestoreDateTime`` must lie between the table's ``EarliestRestorableDateTime`` (when PITR was
  enabled, at most the recovery period back) and ``LatestRestorableDateTime`` (now, on AWS about
  five minutes back), else ``InvalidRestoreTimeException``; without ``RestoreDateTime`` the request
  must set ``UseLatestRestorableTime`` (``ValidationException``).

The emulator keeps no item history, so it cannot give a table's items as they were at an earlier
time. Rather than restore today's items for yesterday's time (kinder and wrong), it refuses a
``RestoreDateTime`` earlier than the source's last write (``ValidationException`` saying so); a
time after the last write has exactly today's items, as AWS would restore them. Writes are
recorded per table by ``PutItem``, ``UpdateItem`` and ``DeleteItem`` (batch and transactional
writes go through them in moto).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from moto.core.exceptions import JsonRESTError

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
# (account, region, table name) -> epoch seconds of the table's last item write.
LAST_WRITE: dict[tuple[str, str, str], float] = {}


class RestoreRefused(JsonRESTError):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(ERROR_PREFIX + error, message)


def check_restore_time(
    *,
    table_name: str,
    description: dict[str, Any],
    requested: float | None,
    use_latest: bool,
    now: float,
    last_write: float | None,
) -> None:
    """Refuse what AWS refuses for a source with ``description`` (its PointInTimeRecoveryDescription)."""
    if description.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise RestoreRefused(
            "PointInTimeRecoveryUnavailableException", f"Point in time recovery is not enabled for table '{table_name}'"
        )
    if requested is None:
        if not use_latest:
            raise RestoreRefused("ValidationException", "RestoreDateTime or UseLatestRestorableTime is required")
        return
    if use_latest:
        raise RestoreRefused("ValidationException", "RestoreDateTime and UseLatestRestorableTime are exclusive")
    period_days = int(description.get("RecoveryPeriodInDays", 35))
    earliest = max(float(description["EarliestRestorableDateTime"]), now - period_days * 86_400)
    if not earliest <= requested <= now:
        raise RestoreRefused(
            "InvalidRestoreTimeException",
            f"RestoreDateTime {requested} is outside the restorable window [{earliest}, {now}]",
        )
    if last_write is not None and requested < last_write:
        raise RestoreRefused(
            "ValidationException",
            f"localcloud keeps no item history: restore to a time after the source's last write ({last_write})",
        )


def _epoch(value: Any) -> float | None:
    """RestoreDateTime as epoch seconds (moto's parser gives a datetime; the wire, a number)."""
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    def recording(original: Any) -> Any:
        def write(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
            result = original(self, table_name, *args, **kwargs)
            LAST_WRITE[(self.account_id, self.region_name, table_name)] = time.time()
            return result

        return write

    backend: Any = DynamoDBBackend
    for name in ("put_item", "update_item", "delete_item"):
        setattr(backend, name, recording(getattr(DynamoDBBackend, name)))

    original_restore = DynamoHandler.restore_table_to_point_in_time

    def restore_table_to_point_in_time(self: Any) -> Any:
        body = self.body
        source = body.get("SourceTableName") or str(body.get("SourceTableArn", "")).split("/")[-1]
        dynamodb: DynamoDBBackend = self.dynamodb_backend
        table = dynamodb.tables.get(source)
        if table is not None:
            requested = body.get("RestoreDateTime")
            check_restore_time(
                table_name=source,
                description=table.continuous_backups["PointInTimeRecoveryDescription"],
                requested=_epoch(requested),
                use_latest=bool(body.get("UseLatestRestorableTime")),
                now=time.time(),
                last_write=LAST_WRITE.get((dynamodb.account_id, dynamodb.region_name, source)),
            )
        body["SourceTableName"] = source
        return original_restore(self)

    handler: Any = DynamoHandler
    handler.restore_table_to_point_in_time = restore_table_to_point_in_time
