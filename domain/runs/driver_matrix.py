"""Driver-matrix results: JUnit/xUnit reports of the Scylla client drivers, turned into stored collections.

The driver-matrix job runs each driver's own test suite (java, python, gocql, cpp, rust...) against Scylla and
uploads one JUnit report per driver version, base64-encoded, plus the ``Build-00.txt`` environment file. The
structs below are the shapes stored on the run and read back by the UI, so their field names are wire names.

Deliberate differences from the service this replaces, each chosen so that one odd report cannot lose a run:

* A python, gocql or cpp report without the expected ``timestamp`` attribute (or with an unreadable one) gets
  ``now`` instead of failing the whole upload.
* A ``<testcase>``'s status comes from its first ``failure``/``error``/``skipped`` child, not from whatever child
  comes first, so ``system-out``, ``properties`` or surefire's ``flakyFailure`` never become a status.
* Count attributes that are missing or unreadable are computed from the cases instead of defaulting to 0, and
  ``disabled`` is read from the report rather than always 0 (so ``passed`` subtracts it too).
* A ``Build-00.txt`` line is split on its first ``": "`` only, so values may contain ``": "``.
* Reports are parsed with DTDs, entities and external references refused, and within size bounds.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, ParseError
from xml.parsers.expat import ErrorString

import defusedxml.ElementTree
import msgspec

from domain.errors import InvalidInput

MAX_XML_BYTES = 20 * 1024 * 1024
"""Largest decoded report; the biggest real driver reports are a few MiB."""

MAX_SUITES = 10_000
MAX_CASES = 200_000
"""Together with MAX_COUNT these keep every collection total inside a 32-bit storage int."""

MAX_COUNT = MAX_CASES
"""Largest believable suite count attribute; larger ones are ignored and the cases are counted instead."""

MAX_SECONDS = 1e9
"""Durations above ~31 years are garbage; they are read as 0 so they cannot overflow storage floats."""

MAX_NAME_LENGTH = 1024
MAX_MESSAGE_LENGTH = 8192

UNKNOWN_DRIVER = "Unknown"
"""Report key for collections whose name did not reveal the driver, as the existing report shows them."""


class TestCase(msgspec.Struct, kw_only=True):
    """One test of a driver's suite; ``status`` is ``passed``, ``failure``, ``error``, ``skipped`` or ``disabled``."""

    __test__ = False  # keeps pytest from collecting the entity as a test class

    name: str
    status: str
    time: float
    classname: str
    message: str


class TestSuite(msgspec.Struct, kw_only=True):
    """One ``<testsuite>`` of a report, with its counts as the report states them."""

    __test__ = False

    name: str
    tests_total: int
    failures: int
    disabled: int
    skipped: int
    passed: int
    errors: int
    time: float
    cases: list[TestCase]


class TestCollection(msgspec.Struct, kw_only=True):
    """One driver version's results in a run, keyed by ``name`` (the submitted driver name).

    ``driver`` is the driver flavour parsed out of the name (``scylla``, ``datastax``...), which is what the tested
    versions report groups by. A collection recorded through ``/result/fail`` has a ``failure_message`` and no suites.
    """

    __test__ = False

    name: str
    driver: str | None
    tests_total: int = 0
    failures: int = 0
    errors: int = 0
    disabled: int = 0
    skipped: int = 0
    passed: int = 0
    time: float = 0.0
    timestamp: datetime | None = None
    failure_message: str | None = None
    suites: list[TestSuite] = msgspec.field(default_factory=list)


class EnvironmentEntry(msgspec.Struct, kw_only=True):
    """One ``key: value`` line of the ``Build-00.txt`` file describing the Scylla build under test."""

    key: str
    value: str


_ASCII_WHITESPACE = re.compile(r"[ \t\r\n\v\f]+")


def decode_base64_xml(raw: str) -> bytes:
    """Decode ``raw_xml``; the client sends ``base64.encodebytes`` output, which has a newline every 76 characters.

    Whitespace is ignored and anything outside the standard alphabet is refused, rather than silently dropped as
    ``base64.decodebytes`` would, so a client sending raw XML by mistake gets a clear error.
    """
    if len(raw) > 2 * _encoded_length(MAX_XML_BYTES):
        raise InvalidInput(f"raw_xml is larger than {MAX_XML_BYTES} bytes")
    compact = _ASCII_WHITESPACE.sub("", raw)
    if len(compact) > _encoded_length(MAX_XML_BYTES):
        raise InvalidInput(f"raw_xml is larger than {MAX_XML_BYTES} bytes")
    try:
        return base64.b64decode(compact, validate=True)
    except ValueError as error:
        raise InvalidInput("raw_xml is not valid base64", str(error)) from error


def _encoded_length(decoded_bytes: int) -> int:
    return 4 * math.ceil(decoded_bytes / 3)


_CPP_NAME = re.compile(r"TEST-(?P<driver>\w+)-")
_DOTTED_NAME = re.compile(r"\w+\.(?P<driver>\w+)\.v\d+\.")


def driver_from_name(driver_name: str, driver_type: str) -> str | None:
    """The driver flavour encoded in a driver-matrix artifact name, or None when the name does not follow the scheme.

    cpp names are ``TEST-<driver>-<version>[.xml]``; every other type uses ``<tool>.<driver>.v<protocol>.<version>``.
    Only the prefix up to the driver is required, so unusual version strings still work::

        python  pytest.datastax.v3.3.24.0      -> datastax
        python  pytest.scylla.v4.3.26.3.xml    -> scylla
        gocql   xunit.scylla.v4.1.13.7         -> scylla
        cpp     TEST-datastax-2.16.2.xml       -> datastax
        cpp     TEST-scylla-2.15.2-1.xml       -> scylla
        java    TEST-4.17.0.0                  -> None (java names carry no driver)
    """
    pattern = _CPP_NAME if driver_type.strip().lower() == "cpp" else _DOTTED_NAME
    match = pattern.match(driver_name)
    return match.group("driver") if match else None


def parse_junit(driver_name: str, driver_type: str, xml: bytes, now: datetime) -> TestCollection:
    """Turn one driver's JUnit/xUnit report into its collection.

    The root is ``<testsuites>`` or a bare ``<testsuite>``. Every ``<testsuite>`` at any depth is a suite, except
    that a suite holding nested suites only contributes its own direct cases (its count attributes aggregate the
    children, which are counted separately). The collection's totals are the sums over its suites.
    """
    name = _checked_driver_name(driver_name)
    if len(xml) > MAX_XML_BYTES:
        raise InvalidInput(f"JUnit XML is larger than {MAX_XML_BYTES} bytes", name)
    if not xml.strip():
        raise InvalidInput("JUnit XML document is empty", name)
    root = _parse_xml(xml, name)
    if root.tag not in {"testsuites", "testsuite"}:
        raise InvalidInput("JUnit XML root must be <testsuites> or <testsuite>", name, root.tag)
    suites = _read_suites(root, name)
    return TestCollection(
        name=name,
        driver=driver_from_name(name, driver_type),
        tests_total=sum(suite.tests_total for suite in suites),
        failures=sum(suite.failures for suite in suites),
        errors=sum(suite.errors for suite in suites),
        disabled=sum(suite.disabled for suite in suites),
        skipped=sum(suite.skipped for suite in suites),
        passed=sum(suite.passed for suite in suites),
        time=sum(suite.time for suite in suites),
        timestamp=_collection_timestamp(root, driver_type, now),
        suites=suites,
    )


def failed_collection(driver_name: str, driver_type: str, reason: str, now: datetime) -> TestCollection:
    """The collection recorded when a driver could not be tested at all: one failed pseudo-test with the reason.

    Unlike the existing service, which leaves it empty, ``timestamp`` is set to ``now`` so the UI can show when the
    failure was reported; the other counts are 0 rather than null.
    """
    name = _checked_driver_name(driver_name)
    return TestCollection(
        name=name,
        driver=driver_from_name(name, driver_type),
        tests_total=1,
        failures=1,
        timestamp=now,
        failure_message=_clip(reason, MAX_MESSAGE_LENGTH),
    )


def _checked_driver_name(driver_name: str) -> str:
    """The driver name keys the collection within its run, so an empty or oversized one is refused, not clipped."""
    if not driver_name.strip():
        raise InvalidInput("driver_name must not be empty")
    if len(driver_name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"driver_name must be at most {MAX_NAME_LENGTH} characters", driver_name[:80])
    return driver_name


def _parse_xml(xml: bytes, driver_name: str) -> Element:
    try:
        return defusedxml.ElementTree.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as error:
        raise InvalidInput("JUnit XML must not contain a DTD, entity declarations or external references",
                           driver_name, type(error).__name__) from error
    except ParseError as error:
        line, column = error.position
        raise InvalidInput(f"JUnit XML is malformed at line {line}, column {column + 1}: {ErrorString(error.code)}",
                           driver_name) from error


def _read_suites(root: Element, driver_name: str) -> list[TestSuite]:
    suites: list[TestSuite] = []
    case_count = 0
    for element in root.iter("testsuite"):
        is_container = element.find("testsuite") is not None
        raw_cases = element.findall("testcase")
        if is_container and not raw_cases:
            continue
        case_count += len(raw_cases)
        if case_count > MAX_CASES:
            raise InvalidInput(f"JUnit XML has more than {MAX_CASES} test cases", driver_name)
        if len(suites) == MAX_SUITES:
            raise InvalidInput(f"JUnit XML has more than {MAX_SUITES} test suites", driver_name)
        suites.append(_read_suite(element, [_read_case(case) for case in raw_cases], trust_counts=not is_container))
    return suites


def _read_suite(element: Element, cases: list[TestCase], *, trust_counts: bool) -> TestSuite:
    """Counts come from the suite's attributes when present and readable, otherwise from its cases.

    ``passed`` is the ``passed`` attribute when given, else what remains of ``tests`` after failures, errors,
    skipped and disabled (gtest counts disabled tests in ``tests``), never below 0.
    """
    attributes = element.attrib if trust_counts else {}

    def count(attribute: str, status: str | None) -> int:
        stated = _count(attributes.get(attribute))
        if stated is not None:
            return stated
        return len(cases) if status is None else sum(case.status == status for case in cases)

    tests_total = count("tests", None)
    failures = count("failures", "failure")
    errors = count("errors", "error")
    skipped = count("skipped", "skipped")
    disabled = count("disabled", "disabled")
    passed = _count(attributes.get("passed"))
    if passed is None:
        passed = max(0, tests_total - failures - errors - skipped - disabled)
    stated_time = _seconds(attributes.get("time"))
    return TestSuite(
        name=_clip(element.get("name", ""), MAX_NAME_LENGTH),
        tests_total=tests_total,
        failures=failures,
        disabled=disabled,
        skipped=skipped,
        passed=passed,
        errors=errors,
        time=stated_time if stated_time is not None else sum(case.time for case in cases),
        cases=cases,
    )


_STATUS_TAGS = {"failure": "failure", "error": "error", "skipped": "skipped", "skip": "skipped"}
"""Children of <testcase> that decide its status; system-out, properties, flaky/rerun reruns and the like do not."""

_GTEST_NOT_RUN = {"notrun", "suppressed"}


def _read_case(element: Element) -> TestCase:
    """A case's status is its first status child; gtest marks disabled tests ``status="notrun"`` without one.

    The message is ``"<message> (<type>)"``; a missing or blank part is left out (``"<message>"`` or ``"<type>"``),
    and without a ``message`` attribute the first non-blank line of the element's text stands in for it, as
    gtest and go-junit-report put the detail there. Passed cases have an empty message.
    """
    outcome = next((child for child in element if child.tag in _STATUS_TAGS), None)
    if outcome is not None:
        status = _STATUS_TAGS[outcome.tag]
        message = _case_message(outcome)
    elif element.get("status") in _GTEST_NOT_RUN or element.get("result") in _GTEST_NOT_RUN:
        status, message = "disabled", ""
    else:
        status, message = "passed", ""
    return TestCase(
        name=_clip(element.get("name", ""), MAX_NAME_LENGTH),
        status=status,
        time=_seconds(element.get("time")) or 0.0,
        classname=_clip(element.get("classname", ""), MAX_NAME_LENGTH),
        message=_clip(message, MAX_MESSAGE_LENGTH),
    )


def _case_message(outcome: Element) -> str:
    text = (outcome.get("message") or "").strip()
    if not text:
        text = next((line.strip() for line in (outcome.text or "").splitlines() if line.strip()), "")
    kind = (outcome.get("type") or "").strip()
    if text and kind:
        return f"{text} ({kind})"
    return text or kind


_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def _number(raw: str | None) -> float | None:
    """A non-negative finite number, or None; ``1,234.5`` is read as 1234.5.

    Old surefire versions format durations with thousands separators. Only well-formed grouping is accepted, so
    a decimal comma (``1,5``) stays unreadable instead of being misread as 15.
    """
    if raw is None:
        return None
    text = raw.strip()
    if _GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _count(raw: str | None) -> int | None:
    value = _number(raw)
    if value is None or not value.is_integer() or value > MAX_COUNT:
        return None
    return int(value)


def _seconds(raw: str | None) -> float | None:
    value = _number(raw)
    return value if value is not None and value <= MAX_SECONDS else None


def _collection_timestamp(root: Element, driver_type: str, now: datetime) -> datetime:
    """When the driver's tests ran; each driver's report keeps it in a different place.

    python and gocql: the first ``<testsuite>``'s ``timestamp``; cpp: the root's ``timestamp``; java: ``now`` minus
    the root's ``time``; any other type: ``now``. A missing or unreadable value falls back to ``now``.
    """
    kind = driver_type.strip().lower()
    if kind in {"python", "gocql"}:
        first_suite = next(root.iter("testsuite"), None)
        return _timestamp(first_suite.get("timestamp") if first_suite is not None else None, now)
    if kind == "cpp":
        return _timestamp(root.get("timestamp"), now)
    if kind == "java":
        return now - timedelta(seconds=_seconds(root.get("time")) or 0.0)
    return now


def _timestamp(raw: str | None, now: datetime) -> datetime:
    """An ISO-8601 instant as aware UTC; reports without an offset (gtest, old pytest) are taken as UTC."""
    if not raw or not raw.strip():
        return now
    text = raw.strip().removesuffix("Z")
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return now


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_environment(raw_env: str) -> list[EnvironmentEntry]:
    """Read ``Build-00.txt``: one ``key: value`` per non-blank line, in file order, first value of a key kept.

    Each line is split on its first ``": "`` (a line ending in ``":"`` has an empty value); keys and values are
    stripped. The existing service refuses a value containing ``": "``; that is accepted here. A line without a
    separator or with an empty key is refused, naming its line number.
    """
    entries: list[EnvironmentEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(raw_env.splitlines(), start=1):
        if not line.strip():
            continue
        key, separator, value = line.rstrip().partition(": ")
        if not separator and key.endswith(":"):
            key, separator = key[:-1], ":"
        key = key.strip()
        if not separator or not key:
            raise InvalidInput(f"Environment line {number} is not 'key: value'", line[:200])
        if key not in seen:
            seen.add(key)
            entries.append(EnvironmentEntry(key=key, value=value.strip()))
    return entries


def scylla_version_from_environment(entries: Iterable[EnvironmentEntry]) -> str | None:
    """The run's Scylla version, from the ``scylla-version`` entry; an empty value means none."""
    return next((entry.value or None for entry in entries if entry.key == "scylla-version"), None)


def test_report(collections: Iterable[TestCollection]) -> dict[str, list[str]]:
    """The driver versions tested by a job: driver flavour -> sorted distinct collection names.

    The report keys by ``driver`` (the existing service calls it the driver type); a collection whose name did not
    reveal its driver is listed under ``Unknown``.
    """
    versions: dict[str, set[str]] = {}
    for collection in collections:
        versions.setdefault(collection.driver or UNKNOWN_DRIVER, set()).add(collection.name)
    return {driver: sorted(names) for driver, names in versions.items()}

