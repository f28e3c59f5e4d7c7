"""The documented error codes are the ones the code raises."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "error-codes.md").read_text()
    return set(re.findall(r"^\| `([a-z_.]+)`", text, flags=re.M)) | set(
        re.findall(r"`([a-z_]+\.[a-z_.]+)`", text))


def raised_codes() -> set[str]:
    codes = set()
    for path in (ROOT / "livetalking").rglob("*.py"):
        text = path.read_text()
        codes |= set(re.findall(r'code="([a-z_.]+)"', text))
        codes |= set(re.findall(r'_fail\(\s*"([a-z_.]+)"', text))
        codes |= set(re.findall(r'^    code = "([a-z_.]+)"', text, flags=re.M))
    return codes - {"error", "not_found", "conflict"}


def test_every_raised_code_is_documented():
    assert raised_codes() - documented_codes() == set()


def test_the_bad_input_corpus_uses_documented_codes(media):
    assert {case.code for case in media.bad_cases()} <= documented_codes()
