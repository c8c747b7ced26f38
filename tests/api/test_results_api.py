"""``fetch_results``: the run page's results tables, in the existing service's ``tables`` shape."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient

from domain.results.entities import Cell, CellStatus, ColumnMeta, ResultSubmission, ResultType, ValidationRule

COLUMNS = [ColumnMeta(name="throughput", unit="op/s", type=ResultType.FLOAT, higher_is_better=True),
           ColumnMeta(name="p99", unit="ms", type=ResultType.FLOAT, higher_is_better=False, visible=False),
           ColumnMeta(name="note", unit="", type=ResultType.TEXT)]


async def _test_id(client: AsyncTestClient, name: str) -> uuid.UUID:
    catalogue = client.app.state.services.catalogue
    release = await catalogue.create_release(f"results-{name}")
    group = await catalogue.create_group(release.id, "perf")
    return (await catalogue.create_test(group.id, name, build_system_id=f"results-{name}/perf/{name}")).id


async def _submit(client: AsyncTestClient, test_id: uuid.UUID, run_id: uuid.UUID, name: str,
                  cells: list[Cell]) -> None:
    submission = ResultSubmission(name=name, description=f"{name} table", columns_meta=COLUMNS,
                                  rows_meta=list(dict.fromkeys(c.row for c in cells)),
                                  validation_rules={"throughput": ValidationRule(fixed_limit=100)},
                                  sut_package_name="scylla-server", sut_timestamp=1_767_225_600, cells=cells)
    await client.app.state.services.results.submit(test_id=test_id, run_id=run_id, submission=submission)


async def test_fetch_results_answers_the_tables_shape(client: AsyncTestClient, auth: dict[str, str]) -> None:
    test_id, run_id = await _test_id(client, "shape"), uuid.uuid4()
    await _submit(client, test_id, run_id, "latency", [
        Cell(column="throughput", row="read", value=150), Cell(column="p99", row="read", value=2.5),
        Cell(column="note", row="read", value_text="warm"), Cell(column="throughput", row="write", value=90)])
    await _submit(client, test_id, run_id, "summary", [Cell(column="note", row="all", value_text="done",
                                                            status=CellStatus.WARNING)])

    response = await client.get(f"/api/v1/run/{test_id}/{run_id}/fetch_results", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "tables": [
        {"latency": {
            "description": "latency table",
            "table_data": {
                "read": {"note": {"value": "warm", "status": "UNSET", "type": "TEXT"},
                         "p99": {"value": 2.5, "status": "UNSET", "type": "FLOAT"},
                         "throughput": {"value": 150.0, "status": "PASS", "type": "FLOAT"}},
                "write": {"throughput": {"value": 90.0, "status": "ERROR", "type": "FLOAT"}}},
            "columns": [{"name": "throughput", "unit": "op/s", "type": "FLOAT", "higher_is_better": True,
                         "visible": True},
                        {"name": "note", "unit": "", "type": "TEXT", "higher_is_better": None, "visible": True}],
            "rows": ["read", "write"],
            "table_status": "ERROR"}},
        {"summary": {
            "description": "summary table",
            "table_data": {"all": {"note": {"value": "done", "status": "WARNING", "type": "TEXT"}}},
            "columns": [{"name": "note", "unit": "", "type": "TEXT", "higher_is_better": None, "visible": True}],
            "rows": ["all"],
            "table_status": "WARNING"}},
    ]}


async def test_a_run_without_results_has_no_tables(client: AsyncTestClient, auth: dict[str, str]) -> None:
    test_id = await _test_id(client, "empty")
    response = await client.get(f"/api/v1/run/{test_id.hex}/{str(uuid.uuid4()).upper()}/fetch_results",
                                headers=auth)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "tables": []}


async def test_fetch_results_needs_a_login(client: AsyncTestClient) -> None:
    response = await client.get(f"/api/v1/run/{uuid.uuid4()}/{uuid.uuid4()}/fetch_results")
    assert response.status_code == 403
    assert response.json() == {"status": "error", "message": "Authorization required"}


async def test_history_lists_series_bests_and_rules(client: AsyncTestClient, auth: dict[str, str]) -> None:
    test_id = await _test_id(client, "history")
    first, second = uuid.uuid4(), uuid.uuid4()
    await _submit(client, test_id, first, "latency", [Cell(column="throughput", row="read", value=150)])
    await _submit(client, test_id, second, "latency", [Cell(column="throughput", row="read", value=180)])
    await _submit(client, test_id, second, "other", [Cell(column="throughput", row="read", value=1)])

    response = await client.get(f"/api/v1/test/{test_id}/results/history", params={"table": "latency"},
                                headers=auth)
    assert response.status_code == 200, response.text
    [table] = response.json()["response"]
    assert table["name"] == "latency"
    points = table["series"]["throughput"]
    assert sorted(p["value"] for p in points) == [150.0, 180.0]
    assert {p["run_id"] for p in points} == {str(first), str(second)}
    assert max(b["value"] for b in table["best_results"]) == 180.0
    assert table["validation_rules"]["throughput"][-1]["fixed_limit"] == 100
    everything = (await client.get(f"/api/v1/test/{test_id}/results/history", headers=auth)).json()["response"]
    assert sorted(t["name"] for t in everything) == ["latency", "other"]
    bad = await client.get(f"/api/v1/test/{test_id}/results/history", params={"since": "yesterday"}, headers=auth)
    assert bad.status_code == 400
