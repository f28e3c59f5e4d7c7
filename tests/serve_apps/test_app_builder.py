"""The deploy configs name an importable builder that wires the ingress and the task center."""

import importlib
from pathlib import Path

import pytest
import yaml

from livetalking.serve_apps.app_builder import build_app
from livetalking.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _builder(import_path: str):
    module, _, attribute = import_path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def test_serve_config_builds_the_application(tmp_path):
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    (app,) = config["applications"]
    assert _builder(app["import_path"]) is build_app
    assert set(app["runtime_env"]["env_vars"]) <= {f"LT_{name.upper()}" for name in Settings.model_fields}
    settings = Settings(data_root=tmp_path / "data", models_root=tmp_path / "models")
    bound = build_app(app["args"], settings=settings)
    ingress = bound._bound_deployment
    assert ingress.name == "Ingress" and ingress.num_replicas == app["args"]["ingress_replicas"]
    assert ingress.ray_actor_options["num_cpus"] == settings.ingress_num_cpus
    task_center = ingress.init_args[1]._bound_deployment
    assert task_center.name == "TaskCenter" and task_center.num_replicas == 1


def test_the_kuberay_manifest_names_the_same_builder():
    manifest = yaml.safe_load((ROOT / "infra" / "kuberay" / "rayservice.yaml").read_text())
    serve = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    assert _builder(serve["applications"][0]["import_path"]) is build_app
    assert manifest["spec"]["rayClusterConfig"]["rayVersion"] == __import__("ray").__version__


def test_the_cluster_launcher_config_passes_rays_own_schema():
    import json

    import jsonschema
    import ray

    schema = json.loads((Path(ray.__file__).parent / "autoscaler" / "ray-schema.json").read_text())
    config = yaml.safe_load((ROOT / "ray_cluster.yaml").read_text())
    jsonschema.validate(config, schema)
    types = config["available_node_types"]
    assert config["head_node_type"] in types and types[config["head_node_type"]]["resources"]["GPU"] == 0
    gpu_types = [t for t in types.values() if t["resources"].get("GPU", 0) > 1]
    assert len(gpu_types) >= 2  # multi-GPU machines for training and for serving
    assert sum(t["max_workers"] for t in types.values()) <= config["max_workers"]
    with pytest.raises(jsonschema.ValidationError, match="min_workers"):
        jsonschema.validate({**config, "min_workers": 2}, schema)
