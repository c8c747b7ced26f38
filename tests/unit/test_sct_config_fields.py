"""Run fields derived from an SCT configuration, per backend."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidInput
from domain.sct.config_fields import derived_fields, node_amount


def node(image: str | None, instance_type: str | None, amount: int, behaviour: str | None) -> dict[str, Any]:
    return {"image_id": image, "instance_type": instance_type, "node_amount": amount, "post_behaviour": behaviour}


COMMON = {"n_db_nodes": "3 3", "n_loaders": 2, "n_monitor_nodes": [1], "post_behavior_db_nodes": "destroy",
          "post_behavior_loader_nodes": "keep", "post_behavior_monitor_nodes": "keep-on-failure",
          "stress_duration": "180", "config_files": ["test-cases/longevity/longevity-10gb-3h.yaml"],
          "test_method": "longevity_test.LongevityTest.test_custom_time"}


def test_aws_config() -> None:
    config = {**COMMON, "cluster_backend": "aws", "region_name": "eu-west-1 us-east-1",
              "ami_id_db_scylla": "ami-db", "instance_type_db": "i4i.large", "ami_id_loader": "ami-loader",
              "instance_type_loader": "c6i.large", "ami_id_monitor": "ami-mon", "instance_type_monitor": "t3.large",
              "gce_image_db": "ignored"}
    assert derived_fields(config) == {
        "stress_duration": 180.0, "region_name": ["eu-west-1", "us-east-1"],
        "cloud_setup": {"backend": "aws", "db_node": node("ami-db", "i4i.large", 6, "destroy"),
                        "loader_node": node("ami-loader", "c6i.large", 2, "keep"),
                        "monitor_node": node("ami-mon", "t3.large", 1, "keep-on-failure")},
        "config_files": ["test-cases/longevity/longevity-10gb-3h.yaml"],
        "test_method": "longevity_test.LongevityTest.test_custom_time"}


@pytest.mark.parametrize(("backend", "region_key", "prefix"), [
    ("aws-siren", "region_name", None), ("k8s-eks", "region_name", None),
    ("gce", "gce_datacenter", "gce"), ("gce-siren", "gce_datacenter", "gce"), ("k8s-gke", "gce_datacenter", "gce"),
    ("azure", "azure_region_name", "azure"), ("oci", "oci_region_name", "oci"),
    ("baremetal", "region_name", None),  # unknown backends read the AWS keys, SCT's default
])
def test_region_and_node_keys_per_backend(backend: str, region_key: str, prefix: str | None) -> None:
    image = f"{prefix}_image_db" if prefix else "ami_id_db_scylla"
    instance_type = f"{prefix}_instance_type_db" if prefix else "instance_type_db"
    config = {"cluster_backend": backend, region_key: "r-1  r-2", image: "img", instance_type: "big",
              "n_db_nodes": 4}
    fields = derived_fields(config)
    assert fields["region_name"] == ["r-1", "r-2"]
    assert fields["cloud_setup"]["backend"] == backend
    assert fields["cloud_setup"]["db_node"] == node("img", "big", 4, None)
    assert fields["cloud_setup"]["loader_node"] == node(None, None, 0, None)


def test_docker_reads_its_image() -> None:
    fields = derived_fields({"cluster_backend": "docker", "docker_image": "scylladb/scylla", "n_db_nodes": 1})
    assert fields["cloud_setup"]["db_node"] == node("scylladb/scylla", None, 1, None)


def test_region_list_and_missing_values() -> None:
    fields = derived_fields({"cluster_backend": "gce", "gce_datacenter": ["us-east1", "us-west1"]})
    assert fields == {"stress_duration": None, "region_name": ["us-east1", "us-west1"],
                      "cloud_setup": {"backend": "gce", "db_node": node(None, None, 0, None),
                                      "loader_node": node(None, None, 0, None),
                                      "monitor_node": node(None, None, 0, None)},
                      "config_files": [], "test_method": None}


def test_no_config_derives_nothing() -> None:
    assert derived_fields(None) == {}
    assert derived_fields({}) == {}


@pytest.mark.parametrize(("raw", "amount"), [(3, 3), ("3", 3), ("3 3 1", 7), ([2, "2"], 4), (None, 0), ("", 0)])
def test_node_amounts_add_up_over_regions(raw: Any, amount: int) -> None:
    assert node_amount(raw, "n_db_nodes") == amount


@pytest.mark.parametrize("raw", ["three", {"a": 1}, [1, "x"]])
def test_bad_node_amount_is_refused(raw: Any) -> None:
    with pytest.raises(InvalidInput, match="n_db_nodes"):
        node_amount(raw, "n_db_nodes")


def test_bad_stress_duration_is_refused() -> None:
    with pytest.raises(InvalidInput, match="stress_duration"):
        derived_fields({"stress_duration": "long"})
