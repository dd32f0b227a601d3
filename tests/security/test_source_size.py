"""No source file over ~300 lines without a written reason (the project's style rule)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 300
SOURCE_SUFFIXES = {".py", ".sh"}
# Generated, installed or scratch trees: not the project's source.
NOT_SOURCE = {".venv", ".venv-checkov", "node_modules", "build", "cdktf.out", ".localcloud", ".hypothesis", ".git"}

LONGER_FOR_A_REASON = {
    "lib/config.py": "every knob's type and validation next to the three presets, so each preset is read "
    "against the rules it must satisfy",
    "lib/constructs/api.py": "one REST API: routes, model, gateway responses, stage and usage plan feed the one "
    "deployment fingerprint that redeploys the stage when any of them changes",
    "localcloud/triggers.py": "the API Gateway REST front end moto lacks in server mode (routing, API keys, "
    "request validation, the proxy event), each step citing the moto behaviour it replaces",
    "localcloud/patches/lambda_runtime.py": "the whole subprocess Lambda runtime that replaces moto's Docker-only "
    "invoke path: one patch point for every way a function is invoked",
}


def _source_files() -> dict[str, int]:
    found = {}
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if path.suffix in SOURCE_SUFFIXES and path.is_file() and not NOT_SOURCE & set(relative.parts):
            found[relative.as_posix()] = len(path.read_text(encoding="utf-8").splitlines())
    return found


def test_no_source_file_is_long_without_a_reason() -> None:
    files = _source_files()
    assert "lib/tap_stack.py" in files and "scripts/test.sh" in files
    too_long = {name: lines for name, lines in files.items() if lines > MAX_LINES and name not in LONGER_FOR_A_REASON}
    assert too_long == {}, "split these, or add them to LONGER_FOR_A_REASON with the reason"


def test_every_exception_is_still_needed() -> None:
    files = _source_files()
    stale = [name for name in LONGER_FOR_A_REASON if files.get(name, 0) <= MAX_LINES]
    assert stale == []
