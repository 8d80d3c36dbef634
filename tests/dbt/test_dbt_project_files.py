"""The dbt project's files agree with trust_assets.config and the raw source contract (no dbt run needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from source_contract.raw_tables import RAW_TABLES
from trust_assets import config
from trust_assets.dbt_project import DBT_PROJECT_DIR, dbt_resource, without_adapter_in_process
from trust_assets.partitions import (
    DAILY_PARTITIONS,
    dbt_window_env,
    fixed_dbt_vars,
    fixed_vars_arguments,
    partition_window_dates,
    window_dates,
)

BUSINESS_MODELS = ("customer_360_definition", "mobile_features", "tv_features", "broadband_features", "outcome_labels")


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _model_docs() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for path in DBT_PROJECT_DIR.glob("models/**/*.yml"):
        for model in _yaml(path).get("models") or []:
            docs[model["name"]] = model
    return docs


def test_var_defaults_agree_with_config() -> None:
    project = _yaml(DBT_PROJECT_DIR / "dbt_project.yml")
    model = config.SETTINGS.model
    assert project["vars"] == {
        # A bare `dbt build` builds the reference-date snapshot.
        "start_date": model.reference_date.isoformat(),
        "end_date": model.reference_date.isoformat(),
        "reference_date": model.reference_date.isoformat(),
        "outcome_start": model.outcome_start.isoformat(),
        "outcome_end": model.outcome_end.isoformat(),
        "nrc_baseline_months": str(model.nrc_baseline_months),
    }
    assert config.SETTINGS.ruler.reference_end == model.reference_date
    assert project["models"]["trust_index"]["marts"]["+schema"] == config.SETTINGS.analytics_schema


def test_profile_targets() -> None:
    profile = _yaml(DBT_PROJECT_DIR / "profiles.yml")["trust_index"]
    assert profile["target"] == "duckdb"
    duck, bq = profile["outputs"]["duckdb"], profile["outputs"]["bigquery"]
    assert duck["type"] == "duckdb" and duck["threads"] == 1 and "TRUST_DUCKDB_PATH" in duck["path"]
    assert bq["type"] == "bigquery"
    for key, variable in {
        "project": "TRUST_BQ_PROJECT",
        "dataset": "TRUST_BQ_DATASET",
        "location": "TRUST_BQ_LOCATION",
        "maximum_bytes_billed": "TRUST_BQ_MAX_BYTES_BILLED",
        "keyfile": "GOOGLE_APPLICATION_CREDENTIALS",
    }.items():
        assert variable in str(bq[key]), key


def test_sources_document_the_raw_contract() -> None:
    (source,) = _yaml(DBT_PROJECT_DIR / "models/staging/_sources.yml")["sources"]
    assert source["name"] == "raw" and source["loaded_at_field"] == "loaded_at"
    assert {"warn_after", "error_after"} <= set(source["config"]["freshness"])
    tables = {t["name"]: t for t in source["tables"]}
    assert list(tables) == [t.name for t in RAW_TABLES]
    for table in RAW_TABLES:
        documented = tables[table.name]
        assert documented["description"].startswith(table.description)
        assert [(c["name"], c["description"], c["data_type"]) for c in documented["columns"]] == [
            (c.name, c.description, c.type.lower()) for c in table.columns
        ]
        # The BigQuery layout the daily models' partition bounds rely on.
        meta = documented.get("config", {}).get("meta", {})
        assert (meta.get("partition_by"), tuple(meta.get("cluster_by", ()))) == (table.partition_by, table.cluster_by)
        if "customer_id" in table.column_names and table.name != "customers":
            tests = next(c for c in documented["columns"] if c["name"] == "customer_id")["data_tests"]
            assert any(isinstance(t, dict) and "relationships" in t for t in tests), table.name


def test_every_source_table_has_a_staging_model() -> None:
    for table in RAW_TABLES:
        sql = (DBT_PROJECT_DIR / f"models/staging/stg_{table.name}.sql").read_text()
        if table.partition_by and not table.read_whole:
            # The event tables' staging is a macro the daily models also call with partition bounds.
            assert f"trust_index.staged_{table.name}()" in sql
            macros = (DBT_PROJECT_DIR / "macros/staged_events.sql").read_text()
            sql = macros[macros.index(f"macro staged_{table.name}(") :]
            sql = sql[: sql.index("endmacro")]
        assert f"source('raw', '{table.name}')" in sql
        assert "latest_rows" in sql  # deduplicated on the grain


def test_every_model_and_column_is_documented() -> None:
    docs = _model_docs()
    models = {p.stem for p in DBT_PROJECT_DIR.glob("models/**/*.sql")}
    assert models <= set(docs), f"undocumented models: {models - set(docs)}"
    for name in models:
        assert len(docs[name].get("description", "")) > 40, name
        assert docs[name]["columns"], name
        for column in docs[name]["columns"]:
            assert column.get("description"), f"{name}.{column['name']}"


def test_business_models_have_enforced_contracts_with_types() -> None:
    docs = _model_docs()
    for name in BUSINESS_MODELS:
        assert docs[name]["config"]["contract"] == {"enforced": True}, name
        assert all(c.get("data_type") for c in docs[name]["columns"]), name


@pytest.mark.parametrize("cohort", [c.value for c in config.COHORTS])
def test_feature_columns_follow_config(cohort: str) -> None:
    model = _model_docs()[f"{cohort}_features"]
    names = [c["name"] for c in model["columns"]]
    assert names == ["snapshot_date", "customer_id", "segment", *config.feature_names(cohort)]
    for spec, column in zip(config.FEATURES[config.Cohort(cohort)], model["columns"][3:], strict=True):
        assert spec.description in column["description"]
        assert column["meta"] == {"unit": spec.unit, "window": spec.window}
        assert "double" in column["data_type"]
    segment_source = config.SEGMENT_SOURCE[config.Cohort(cohort)]
    sql = (DBT_PROJECT_DIR / f"models/marts/features/{cohort}_features.sql").read_text()
    # The population comes from customer_360_definition, segmented by the configured attribute; the shared
    # families from int_common_features, whose population is customer_360_definition's too.
    assert f"feature_population('{cohort}', '{segment_source}'," in sql
    assert f"common_feature_join('{cohort}')" in sql
    macro = (DBT_PROJECT_DIR / "macros/features.sql").read_text()
    assert "{{ segment_column }} as segment" in macro and "ref('customer_360_definition')" in macro
    assert "ref('int_common_features')" in macro
    common = (DBT_PROJECT_DIR / "models/intermediate/daily/int_common_features.sql").read_text()
    assert "ref('customer_360_definition')" in common and f"'{cohort}'" in common


def test_common_features_columns_follow_config() -> None:
    model = _model_docs()["int_common_features"]
    names = [c["name"] for c in model["columns"]]
    common = [spec for spec in config.FEATURES[config.Cohort.MOBILE] if spec.name in config.common_feature_names()]
    assert [s.name for s in common] == config.common_feature_names()
    assert names == ["snapshot_date", "customer_id", "product", *(s.name for s in common)]
    for spec, column in zip(common, model["columns"][3:], strict=True):
        assert spec.description in column["description"]
        assert column["meta"] == {"unit": spec.unit, "window": spec.window}
    assert model["config"]["contract"] == {"enforced": True}


def test_the_window_reaches_dbt_through_the_environment_and_the_vars_stay_fixed() -> None:
    assert dbt_window_env(date(2025, 7, 29), date(2025, 7, 31)) == {
        "TRUST_WINDOW_START_DATE": "2025-07-29",
        "TRUST_WINDOW_END_DATE": "2025-07-31",
    }
    assert fixed_dbt_vars() == {
        "reference_date": "2025-07-31",
        "outcome_start": "2025-08-01",
        "outcome_end": "2026-01-31",
        "nrc_baseline_months": "3",
    }
    assert fixed_vars_arguments() == ["--vars", json.dumps(fixed_dbt_vars())]
    with pytest.raises(ValueError):
        dbt_window_env(date(2025, 7, 31), date(2025, 7, 30))


def test_a_dbt_command_gets_its_window_and_warehouse_without_changing_this_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import dagster_dbt.core.dbt_cli_invocation as invocation_module

    started: list[dict[str, str]] = []

    def record(cls: type, *, env: dict[str, str], **kwargs: Any) -> None:
        started.append(env)

    monkeypatch.setattr(invocation_module.DbtCliInvocation, "run", classmethod(record))
    monkeypatch.setenv("TRUST_WINDOW_START_DATE", "2020-01-01")
    monkeypatch.delenv("TRUST_WINDOW_END_DATE", raising=False)
    before = dict(os.environ)
    relative = Path(os.path.relpath(tmp_path / "copy.duckdb"))
    with without_adapter_in_process():
        dbt_resource(relative).cli(["build"], env=dbt_window_env(date(2025, 7, 29), date(2025, 7, 31)))
        dbt_resource().cli(["parse"])
    assert dict(os.environ) == before
    window, default = started
    assert (window["TRUST_WINDOW_START_DATE"], window["TRUST_WINDOW_END_DATE"]) == ("2025-07-29", "2025-07-31")
    # dbt runs in dbt_project/: it gets the absolute file, resolved against this process's directory.
    assert window["TRUST_DUCKDB_PATH"] == str(tmp_path / "copy.duckdb")
    assert default["TRUST_DUCKDB_PATH"] == str(config.duckdb_path())
    assert default["TRUST_WINDOW_START_DATE"] == "2020-01-01" and "TRUST_WINDOW_END_DATE" not in default


def test_partition_window_dates() -> None:
    def ctx(start: datetime, end: datetime) -> SimpleNamespace:
        return SimpleNamespace(partition_time_window=SimpleNamespace(start=start, end=end))

    utc = UTC
    one_day = ctx(datetime(2025, 7, 31, tzinfo=utc), datetime(2025, 8, 1, tzinfo=utc))
    assert partition_window_dates(one_day) == (date(2025, 7, 31), date(2025, 7, 31))
    backfill = ctx(datetime(2025, 2, 1, tzinfo=utc), datetime(2025, 8, 1, tzinfo=utc))
    assert partition_window_dates(backfill) == (date(2025, 2, 1), date(2025, 7, 31))
    with pytest.raises(ValueError):
        window_dates(date(2025, 7, 31), date(2025, 7, 31))


def test_daily_partitions() -> None:
    assert DAILY_PARTITIONS.start.date() == config.SETTINGS.partitions_start
    assert DAILY_PARTITIONS.timezone == config.SETTINGS.timezone
    assert DAILY_PARTITIONS.end_offset == 0
    key = DAILY_PARTITIONS.get_first_partition_key()
    assert key == "2025-02-01"
    window = DAILY_PARTITIONS.time_window_for_partition_key("2025-07-31")
    assert window_dates(window.start.date(), window.end.date()) == (date(2025, 7, 31), date(2025, 7, 31))


def test_data_dictionary_is_generated_from_the_yaml() -> None:
    script = DBT_PROJECT_DIR / "scripts" / "data_dictionary.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    page = (DBT_PROJECT_DIR.parent / "docs" / "data_dictionary.md").read_text()
    for name in (*BUSINESS_MODELS, *config.feature_names("mobile"), "raw.contract_events"):
        assert name in page
    # Every model has its section, wherever its folder sits.
    for model in DBT_PROJECT_DIR.glob("models/**/*.sql"):
        assert f".{model.stem}`" in page, model.stem
