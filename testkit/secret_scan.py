"""What the local cloud recorded during a run, searched for secrets it must never hold in clear.

The harness remembers every merchant secret key it issued (``remember``: ``make merchant``'s
answer passes through it); ``recorded`` reads back everything the emulator kept: CloudWatch Logs
events (the functions' logs, the gateway's access log group), X-Ray traces, WAF logging
configurations, the stage's access-log format, DynamoDB items, and every file under the
emulator's state directory (``server.log`` with each invocation's output, Terraform state, the
unpacked code). ``scan`` counts records and bytes, so a test shows it searched something real.

Beside the exact secrets it was given, ``scan`` looks for every *kind* of secret whose shape is
fixed (``SECRET_SHAPES``): a webhook signing secret (``whsec_`` and 64 hex digits, the contract's)
is shown once to its merchant and stored only as KMS ciphertext, and a PEM private key (a deploy
of prod imports a certificate and its key into ACM: ``testkit.deployment.environment_variables``;
the merchant receivers and the emulator's CA hold keys) is never recorded, so any one found in
clear is a leak, whichever run or test made it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from payment_core import contract

ISSUED_SECRET_KEYS: set[str] = set()


def remember(issued: Mapping[str, str]) -> Mapping[str, str]:
    """``make merchant``'s answer, its secret key noted for the scan."""
    ISSUED_SECRET_KEYS.add(issued["secret_key"])
    return issued


# Label -> the shape of a secret nothing may record in clear (matched on the raw bytes).
SECRET_SHAPES: dict[str, re.Pattern[bytes]] = {
    "webhook signing secret": re.compile(contract.WEBHOOK_SECRET_PATTERN.strip("^$").encode()),
    # The encapsulation boundary (RFC 7468), whatever the key's format: PKCS #8 ("PRIVATE KEY",
    # "ENCRYPTED PRIVATE KEY"), OpenSSL's ("RSA", "EC"), OpenSSH's, OpenPGP's ("... KEY BLOCK").
    # The line alone: in a JSON record (Terraform state, a log event) the key's newlines are "\n".
    "PEM private key": re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
}


@dataclass(frozen=True)
class Record:
    source: str  # e.g. "logs:/aws/lambda/payment-api-e2e", "file:server.log"
    data: bytes


@dataclass
class ScanReport:
    records: dict[str, int] = field(default_factory=dict)  # source kind -> records scanned
    scanned_bytes: int = 0
    hits: list[tuple[str, str]] = field(default_factory=list)  # (source, which needle)

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.records.items()))
        return f"scanned {sum(self.records.values())} records, {self.scanned_bytes} bytes ({kinds})"


def scan(records: Iterable[Record], needles: Mapping[str, str]) -> ScanReport:
    """Every record searched for every needle (label -> text) and every ``SECRET_SHAPES`` shape; a
    hit names the record and the needle or shape, never the secret."""
    encoded = {label: text.encode() for label, text in needles.items()}
    report = ScanReport()
    for record in records:
        kind = record.source.split(":", 1)[0]
        report.records[kind] = report.records.get(kind, 0) + 1
        report.scanned_bytes += len(record.data)
        report.hits.extend((record.source, label) for label, text in encoded.items() if text in record.data)
        report.hits.extend(
            (record.source, label) for label, shape in SECRET_SHAPES.items() if shape.search(record.data)
        )
    return report


def _pages(call: Any, key: str, token_in: str, token_out: str, **kwargs: Any) -> Iterator[Any]:
    while True:
        page = call(**kwargs)
        yield from page.get(key, [])
        token = page.get(token_out)
        if not token:
            return
        kwargs[token_in] = token


def log_records(logs: Any) -> Iterator[Record]:
    for group in _pages(logs.describe_log_groups, "logGroups", "nextToken", "nextToken"):
        name = group["logGroupName"]
        for event in _pages(logs.filter_log_events, "events", "nextToken", "nextToken", logGroupName=name):
            yield Record(f"logs:{name}", event["message"].encode())


def trace_records(xray: Any, start: datetime, end: datetime) -> Iterator[Record]:
    summaries = list(
        _pages(xray.get_trace_summaries, "TraceSummaries", "NextToken", "NextToken", StartTime=start, EndTime=end)
    )
    for offset in range(0, len(summaries), 5):  # BatchGetTraces takes at most 5 ids
        ids = [summary["Id"] for summary in summaries[offset : offset + 5]]
        for trace in xray.batch_get_traces(TraceIds=ids).get("Traces", []):
            yield Record(f"trace:{trace.get('Id')}", json.dumps(trace, default=str).encode())


def waf_records(wafv2: Any) -> Iterator[Record]:
    for acl in wafv2.list_web_acls(Scope="REGIONAL").get("WebACLs", []):
        yield Record(
            f"waf:{acl['Name']}",
            json.dumps(wafv2.get_web_acl(Name=acl["Name"], Scope="REGIONAL", Id=acl["Id"]), default=str).encode(),
        )
    for config in wafv2.list_logging_configurations(Scope="REGIONAL").get("LoggingConfigurations", []):
        yield Record(f"waf-logging:{config['ResourceArn']}", json.dumps(config, default=str).encode())


def stage_records(apigw: Any, api_id: str) -> Iterator[Record]:
    for stage in apigw.get_stages(restApiId=api_id).get("item", []):
        yield Record(f"stage:{stage['stageName']}", json.dumps(stage, default=str).encode())


def table_records(dynamodb: Any) -> Iterator[Record]:
    for name in _pages(dynamodb.list_tables, "TableNames", "ExclusiveStartTableName", "LastEvaluatedTableName"):
        pages = _pages(dynamodb.scan, "Items", "ExclusiveStartKey", "LastEvaluatedKey", TableName=name)
        for item in pages:
            yield Record(f"item:{name}", json.dumps(item, sort_keys=True).encode())


# Directories of the state dir that hold what was installed, not what the run recorded (with why).
NOT_RECORDS = {
    "lambda-cache": "the deployed code and layers, unpacked (payment_core's docstrings quote a test PAN)",
    ".terraform": "provider plugins and module copies Terraform installed",
}


def file_records(state_dir: Path) -> Iterator[Record]:
    """Every regular file under the state dir but those of ``NOT_RECORDS`` (symlinks not followed)."""
    for root, dirs, files in os.walk(state_dir):
        dirs[:] = sorted(d for d in dirs if d not in NOT_RECORDS)
        for name in sorted(files):
            path = Path(root, name)
            if path.is_file() and not path.is_symlink():
                yield Record(f"file:{path.relative_to(state_dir)}", path.read_bytes())
