"""Run fields SCT derives from the test configuration it submits with the run.

The run page and the dashboards show where a run ran (backend, regions, node images and sizes)
without reading the whole configuration, so the submit call stores these few fields beside it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.errors import InvalidInput


class NodeSetup(msgspec.Struct, kw_only=True):
    """One kind of node of the test cluster: image, size, how many, and what happens to it afterwards."""

    image_id: str | None = None
    instance_type: str | None = None
    node_amount: int = 0
    post_behaviour: str | None = None


class CloudSetup(msgspec.Struct, kw_only=True):
    """The cluster a run asked for."""

    backend: str | None
    db_node: NodeSetup
    loader_node: NodeSetup
    monitor_node: NodeSetup


# (image key, instance type key) per node kind; backends name their keys differently.
_KEYS = tuple[tuple[str, str], tuple[str, str], tuple[str, str]]
_AWS: _KEYS = (("ami_id_db_scylla", "instance_type_db"), ("ami_id_loader", "instance_type_loader"),
               ("ami_id_monitor", "instance_type_monitor"))
_GCE: _KEYS = (("gce_image_db", "gce_instance_type_db"), ("gce_image_loader", "gce_instance_type_loader"),
               ("gce_image_monitor", "gce_instance_type_monitor"))
_AZURE: _KEYS = (("azure_image_db", "azure_instance_type_db"), ("azure_image_loader", "azure_instance_type_loader"),
                 ("azure_image_monitor", "azure_instance_type_monitor"))
_OCI: _KEYS = (("oci_image_db", "oci_instance_type_db"), ("oci_image_loader", "oci_instance_type_loader"),
               ("oci_image_monitor", "oci_instance_type_monitor"))
_DOCKER: _KEYS = (("docker_image", "instance_type_db"), ("docker_image_loader", "instance_type_loader"),
                  ("docker_image_monitor", "instance_type_monitor"))

# backend -> (region key, node keys); a backend not listed is treated as AWS, as SCT's default is.
_BACKENDS: dict[str, tuple[str, _KEYS]] = {
    "aws": ("region_name", _AWS),
    "aws-siren": ("region_name", _AWS),
    "k8s-eks": ("region_name", _AWS),
    "gce": ("gce_datacenter", _GCE),
    "gce-siren": ("gce_datacenter", _GCE),
    "k8s-gke": ("gce_datacenter", _GCE),
    "azure": ("azure_region_name", _AZURE),
    "oci": ("oci_region_name", _OCI),
    "docker": ("region_name", _DOCKER),
}
_COUNT_KEYS = ("n_db_nodes", "n_loaders", "n_monitor_nodes")
_POST_BEHAVIOUR_KEYS = ("post_behavior_db_nodes", "post_behavior_loader_nodes", "post_behavior_monitor_nodes")


def node_amount(raw: Any, key: str) -> int:
    """A node count as SCT writes it: an int, ``"3 3"`` (one count per region) or a list; multi-DC counts add up."""
    if raw is None or raw == "":
        return 0
    parts: list[Any] = raw.split() if isinstance(raw, str) else list(raw) if isinstance(raw, list) else [raw]
    try:
        return sum(int(part) for part in parts if not isinstance(part, bool))
    except (TypeError, ValueError):
        raise InvalidInput(f"sct_config.{key} must be a node count, a space-separated list of counts or a list",
                           str(raw)) from None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def derived_fields(config: dict[str, Any] | None) -> dict[str, Any]:
    """``stress_duration``, ``region_name``, ``cloud_setup``, ``config_files`` and ``test_method`` of a run."""
    if not config:
        return {}
    backend = config.get("cluster_backend")
    region_key, node_keys = _BACKENDS.get(str(backend), _BACKENDS["aws"])
    regions = config.get(region_key)
    region_names = (regions.split() if isinstance(regions, str)
                    else [str(r) for r in regions] if isinstance(regions, list) else [])
    nodes = [NodeSetup(image_id=_text(config.get(image_key)), instance_type=_text(config.get(type_key)),
                       node_amount=node_amount(config.get(count_key), count_key),
                       post_behaviour=_text(config.get(behaviour_key)))
             for (image_key, type_key), count_key, behaviour_key in zip(node_keys, _COUNT_KEYS, _POST_BEHAVIOUR_KEYS,
                                                                        strict=True)]
    setup = CloudSetup(backend=_text(backend), db_node=nodes[0], loader_node=nodes[1], monitor_node=nodes[2])
    stress_duration = config.get("stress_duration")
    try:
        duration = float(stress_duration) if stress_duration not in (None, "") else None
    except (TypeError, ValueError):
        raise InvalidInput("sct_config.stress_duration must be a number of minutes", str(stress_duration)) from None
    files = config.get("config_files")
    return {
        "stress_duration": duration,
        "region_name": region_names,
        "cloud_setup": msgspec.to_builtins(setup),
        "config_files": [str(f) for f in files] if isinstance(files, list) else [],
        "test_method": _text(config.get("test_method")),
    }
