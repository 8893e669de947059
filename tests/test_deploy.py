"""The deployment files: the Kubernetes manifests render (kubectl kustomize) and validate against the Kubernetes
schemas (kubernetes-validate, offline), keep the promises the Deployment makes, and carry a config file and mappings
the gateway accepts; the CI container script's messages are the README's and the tests' own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url as make_admin_url

from stuf_bridge.mapping.engine import Mappings
from stuf_bridge.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
TARGETS = [KUBERNETES / "base", KUBERNETES / "overlays" / "gemeente-voorbeeld"]
KINDS = {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is not installed (CI must install it to render the Kubernetes manifests)")
        pytest.skip("kubectl is not installed: the Kubernetes manifests are not rendered")
    return path


HELM_CHART = ROOT / "deploy" / "helm" / "stuf-bridge"
RENDERED = [*TARGETS, HELM_CHART]  # what every rendered-manifest test runs on: the Kustomize base, overlay, chart


def render_chart(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The Helm chart rendered offline by Helm's own Go SDK (helm-python-sdk: no helm binary), release stuf-bridge."""
    try:
        from helm_python.chart import Chart
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("helm-python-sdk is not installed (the test extra brings it)")
        pytest.skip("helm-python-sdk is not installed: the Helm chart is not rendered")
    manifests = Chart.load(HELM_CHART).render(values=values, name="stuf-bridge", namespace="stuf-bridge")
    return [doc for text in manifests.values() for doc in yaml.safe_load_all(text) if doc]


def render(target: Path) -> list[dict[str, Any]]:
    if target == HELM_CHART:
        return render_chart()
    done = subprocess.run([kubectl(), "kustomize", str(target)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr  # deprecated kustomize fields
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


@pytest.mark.parametrize("target", RENDERED, ids=lambda t: t.name)
def test_every_rendered_object_validates_against_the_kubernetes_schemas(target: Path) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    objects = render(target)
    assert KINDS <= {obj["kind"] for obj in objects}
    version = kubernetes_validate.latest_version()
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)  # strict: unknown fields are errors too


def test_the_validation_would_notice_a_wrong_manifest() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    deployment = by_kind(render(TARGETS[0]), "Deployment")[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/health"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("target", RENDERED, ids=lambda t: t.name)
def test_the_deployment_keeps_its_promises(target: Path) -> None:
    objects = render(target)
    [deployment] = by_kind(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    paths = {"livenessProbe": "/health", "startupProbe": "/health", "readinessProbe": "/ready"}
    for probe, path in paths.items():  # liveness asks nothing outside the process; readiness the store and ZGW
        assert container[probe]["httpGet"]["path"] == path, probe
        assert container[probe]["httpGet"]["port"] in ("http", 8080), probe
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in container["ports"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    # the preStop pause and the gateway's own grace period fit in the pod's, or messages in flight are killed
    pause = float(container["lifecycle"]["preStop"]["exec"]["command"][-1].rsplit("(", 1)[1].rstrip(")"))
    grace = {item["name"]: item.get("value") for item in container["env"]}["STUF_BRIDGE_SHUTDOWN_GRACE_SECONDS"]
    assert pause + float(grace) < pod["terminationGracePeriodSeconds"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]], "/tmp must be writable (document spooling)"
    assert "emptyDir" in volumes[mounts["/var/lib/stuf-bridge"]]
    env = {item["name"]: item.get("value") for item in container["env"]}
    secret_volume = volumes[mounts["/run/secrets/stuf-bridge"]]["secret"]
    keys = {item["key"]: item["path"] for item in secret_volume["items"]}
    assert env["STUF_BRIDGE_ZGW_SECRET_FILE"] == f"/run/secrets/stuf-bridge/{keys['zgw-secret']}"
    assert env["STUF_BRIDGE_DATABASE_URL_FILE"] == f"/run/secrets/stuf-bridge/{keys['database-url']}"
    # the config maps the pod mounts are the ones the kustomization generated (names with their content hash)
    config_maps = {obj["metadata"]["name"] for obj in by_kind(objects, "ConfigMap")}
    assert {volumes[name]["configMap"]["name"] for name in ("config", "mappings")} <= config_maps
    selector = deployment["spec"]["selector"]["matchLabels"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()
    for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        [obj] = by_kind(objects, kind)
        chosen = obj["spec"].get("selector") or obj["spec"]["podSelector"]
        assert chosen.get("matchLabels", chosen).items() <= labels.items(), kind
    [hpa] = by_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


@pytest.mark.parametrize("target", RENDERED, ids=lambda t: t.name)
def test_the_config_file_and_mappings_are_ones_the_gateway_accepts(target: Path, tmp_path: Path) -> None:
    objects = render(target)
    for obj in by_kind(objects, "ConfigMap"):
        folder = tmp_path / obj["metadata"]["name"].rsplit("-", 1)[0]
        folder.mkdir()
        for name, content in obj["data"].items():
            (folder / name).write_text(content, encoding="utf-8")
    settings = load_settings(tmp_path / "stuf-bridge-config" / "config.yaml")
    assert settings.log_format == "json"
    Mappings.load(overlay_dir=tmp_path / "stuf-bridge-mappings")


def test_the_helm_chart_is_the_kustomize_base() -> None:
    """The chart with its default values makes the base's objects, with the same pod: containers, probes, security,
    grace periods and volumes (only the generated ConfigMap names and the release's labels differ)."""
    base, chart = render(TARGETS[0]), render_chart()
    assert sorted(obj["kind"] for obj in base) == sorted(obj["kind"] for obj in chart)
    [base_deployment], [chart_deployment] = by_kind(base, "Deployment"), by_kind(chart, "Deployment")
    base_pod, chart_pod = base_deployment["spec"]["template"]["spec"], chart_deployment["spec"]["template"]["spec"]

    def without_config_map_names(pod: dict[str, Any]) -> dict[str, Any]:
        volumes = [{k: v for k, v in volume.items() if k != "configMap"} for volume in pod["volumes"]]
        return {**pod, "volumes": volumes}

    assert without_config_map_names(chart_pod) == without_config_map_names(base_pod)
    for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        [one], [other] = by_kind(base, kind), by_kind(chart, kind)
        spec, chart_spec = dict(one["spec"]), dict(other["spec"])
        for key in ("selector", "podSelector"):  # the chart's selectors add the release (instance) label
            if key in chart_spec:
                chosen = chart_spec[key].get("matchLabels", chart_spec[key])
                chosen.pop("app.kubernetes.io/instance")
        assert chart_spec == spec, kind
    chart_meta = yaml.safe_load((HELM_CHART / "Chart.yaml").read_text(encoding="utf-8"))
    from importlib.metadata import version

    assert chart_meta["appVersion"] == version("stuf-bridge")


def test_the_helm_chart_takes_its_values_and_a_changed_config_rolls_the_pods() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    values = {"image": {"repository": "registry.gemeente.example/stuf-bridge", "tag": "9.9.9"},
              "config": "log_format: json\nvalidation: strict\n", "autoscaling": {"enabled": False},
              "extraEnv": [{"name": "STUF_BRIDGE_WORKERS", "value": "2"}]}
    objects = render_chart(values)
    for obj in objects:
        kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)
    assert not by_kind(objects, "HorizontalPodAutoscaler")
    [container] = by_kind(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.gemeente.example/stuf-bridge:9.9.9"
    assert {"name": "STUF_BRIDGE_WORKERS", "value": "2"} in container["env"]
    names = {obj["metadata"]["name"] for obj in by_kind(objects, "ConfigMap")}
    defaults = {obj["metadata"]["name"] for obj in by_kind(render_chart(), "ConfigMap")}
    assert len(names - defaults) == 1  # the config's ConfigMap has a new name: the Deployment changes, pods roll
    [config] = [obj for obj in by_kind(objects, "ConfigMap") if obj["metadata"]["name"] in names - defaults]
    assert "validation: strict" in config["data"]["config.yaml"]


def test_the_helm_chart_lints_clean() -> None:
    render_chart()  # skips (or fails in CI) without helm-python-sdk
    from helm_python.chart import lint

    report = lint(HELM_CHART, strict=True)
    assert report["errors"] == [] and all(m["severity"] < 2 for m in report["messages"]), report


def test_the_container_script_sends_the_readmes_and_the_tests_messages() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    genereer = (ROOT / ".ci" / "messages" / "genereerZaakIdentificatie.xml").read_text(encoding="utf-8")
    assert f"--data-binary @- <<'EOF'\n{genereer}EOF\n" in readme
    sys.path.insert(0, str(ROOT))
    try:
        from tests.operations.messages import creeer_zaak
    finally:
        sys.path.remove(str(ROOT))
    assert (ROOT / ".ci" / "messages" / "creeerZaak.xml").read_bytes() == creeer_zaak()[0]


def test_the_compose_file_gives_the_gateway_postgresql_through_its_secret_files() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    gateway, postgres = compose["services"]["stuf-bridge"], compose["services"]["postgres"]
    secrets = {name: ROOT / spec["file"] for name, spec in compose["secrets"].items()}
    assert all(path.is_file() for path in secrets.values())
    url_file = gateway["environment"]["STUF_BRIDGE_DATABASE_URL_FILE"]
    assert url_file.startswith("/run/secrets/") and url_file.rsplit("/", 1)[1] in gateway["secrets"]
    url = secrets[url_file.rsplit("/", 1)[1]].read_text(encoding="utf-8").strip()
    password = secrets["postgres_password"].read_text(encoding="utf-8").strip()
    env = postgres["environment"]
    assert url == f"postgresql://{env['POSTGRES_USER']}:{password}@postgres:5432/{env['POSTGRES_DB']}"
    assert gateway["depends_on"]["postgres"]["condition"] == "service_healthy" and postgres["healthcheck"]["test"]
    assert "/var/lib/stuf-bridge" in gateway["volumes"][0]
    assert "/ready" in " ".join(gateway["healthcheck"]["test"])  # healthy: the store and ZGW answer


def test_the_compose_gateway_service_runs_as_compose_configures_it(tmp_path: Path) -> None:
    """The stuf-bridge service of docker-compose.yml started the way compose would start it, without containers: its
    environment as written, each secret at a file of its own (compose mounts them under /run/secrets/), listening on
    every address as the image's command does (so the demo secret is refused unless the file allows it), on a
    PostgreSQL database and role made as the postgres service's environment says. Only the database host (the
    service name ``postgres`` on compose's network) and the database name (one of the test's own on the shared
    cluster) differ. Then the compose healthcheck's own command says healthy, and a creeerZaak is answered Bv03."""
    import httpx

    from tests.operations.messages import creeer_zaak
    from tests.store.conftest import PG_DEFAULT_ADMIN_URL, PG_URL_ENV, _admin
    from tests.support.server import running_gateway

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service, postgres = compose["services"]["stuf-bridge"], compose["services"]["postgres"]
    sources = {name: ROOT / spec["file"] for name, spec in compose["secrets"].items()}
    role = postgres["environment"]["POSTGRES_USER"]
    password = sources["postgres_password"].read_text(encoding="utf-8").strip()
    database = f"{postgres['environment']['POSTGRES_DB']}_compose_{os.getpid()}"
    admin = make_admin_url(os.environ.get(PG_URL_ENV, PG_DEFAULT_ADMIN_URL))
    try:
        _admin(admin, "SELECT 1")
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable: {exc!r}")
        pytest.skip(f"PostgreSQL not reachable: {exc!r}")
    role_was_there = _role_exists(admin, role)
    if not role_was_there:
        _admin(admin, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    _admin(admin, f'CREATE DATABASE "{database}" OWNER {role}')
    try:
        mounted = tmp_path / "run-secrets"
        mounted.mkdir()
        for name in service["secrets"]:
            text = sources[name].read_text(encoding="utf-8")
            if name == "stuf_bridge_database_url":  # compose's network: the service name postgres is the database
                assert f"@postgres:5432/{postgres['environment']['POSTGRES_DB']}" in text
                text = text.replace(f"@postgres:5432/{postgres['environment']['POSTGRES_DB']}",
                                    f"@127.0.0.1:5432/{database}")
            (mounted / name).write_text(text, encoding="utf-8")
        env = {key: str(value).replace("/run/secrets/", f"{mounted}/") for key, value in service["environment"].items()}
        log: list[str] = []
        with running_gateway(tmp_path / "data", env=env, host="0.0.0.0", log=log, timeout=120) as url:
            port = url.rsplit(":", 1)[1]
            check = service["healthcheck"]["test"]
            assert check[0] == "CMD" and check[1] == "python3"
            healthy = subprocess.run([sys.executable, *[a.replace(":8080/", f":{port}/") for a in check[2:]]],
                                     capture_output=True, text=True, timeout=60)
            assert healthy.returncode == 0, healthy.stderr
            body, headers = creeer_zaak(identificatie="0363ZK-COMPOSE-1", referentienummer="compose-1")
            answer = httpx.post(f"{url}/zds/OntvangAsynchroon", content=body, headers=headers, timeout=60)
            assert answer.status_code == 200 and b"Bv03" in answer.content, answer.text
        [listening] = [line for line in log if '"listening"' in line]
        assert '"store": "postgresql"' in listening
    finally:
        _admin(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
               f'DROP DATABASE IF EXISTS "{database}"', *([] if role_was_there else [f"DROP ROLE IF EXISTS {role}"]))


def _role_exists(admin: Any, role: str) -> bool:
    import asyncio

    import asyncpg

    from tests.store.conftest import _plain

    async def query() -> bool:
        conn = await asyncpg.connect(_plain(admin), timeout=5)
        try:
            return await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role) is not None
        finally:
            await conn.close()

    return asyncio.run(query())


COMPOSE_MISTAKES = {  # what the validation must refuse: each a mistake a hand edit of the compose file makes
    "duration": ("stop_grace_period: 45s", "stop_grace_period: 45 sec"),
    "misspelled key": ("    restart: unless-stopped\n    # healthy", "    restrat: unless-stopped\n    # healthy"),
    "condition": ("condition: service_healthy", "condition: service_ready"),
    "secret without file": ("    file: deploy/compose/secrets/zgw_secret", "    path: deploy/compose/secrets/x"),
    "port": ('"127.0.0.1:8080:8080"', '"127.0.0.1:8080:http"'),
}


def test_the_compose_file_is_a_valid_compose_file() -> None:
    """docker-compose.yml against the Compose Specification, offline: the compose_spec parser (strict: unknown keys,
    bad durations, ports and conditions are errors), then its typed model of the whole specification. No docker
    daemon, compose plugin or image registry is reachable on the build machines, so the stack is not started here
    (docs/operations.md, docker compose)."""
    from compose_spec import PyCompose

    compose = PyCompose.from_yaml((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert sorted(compose.service_names()) == ["postgres", "stuf-bridge"]
    spec = compose.to_spec()
    gateway = spec.services["stuf-bridge"]
    assert gateway.healthcheck is not None and gateway.stop_grace_period == "45s"


@pytest.mark.parametrize("mistake", sorted(COMPOSE_MISTAKES))
def test_the_compose_validation_refuses_a_broken_file(mistake: str) -> None:
    from compose_spec import PyCompose

    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    old, new = COMPOSE_MISTAKES[mistake]
    assert old in text
    with pytest.raises(ValueError):
        PyCompose.from_yaml(text.replace(old, new, 1))


def test_the_image_checks_liveness_not_readiness() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    [healthcheck] = [line for line in dockerfile.splitlines() if line.lstrip().startswith("CMD [\"python3\"")]
    assert "/health" in healthcheck and "/ready" not in healthcheck
