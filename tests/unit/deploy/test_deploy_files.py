"""The files under deploy/ say only what Tandem understands: every manifest is valid against
the Kubernetes OpenAPI schema, and every command, option, config key and environment variable
that docker-compose.yml and the manifests give Tandem exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

from tandem.cli.main import _register, cli
from tandem.config import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
ENV_NAME = re.compile(r"^TANDEM__([A-Z0-9_]+?)__([A-Z0-9_]+)$")


def manifest_docs() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{path.name}#{i}", doc) for path in MANIFESTS
            for i, doc in enumerate(yaml.safe_load_all(path.read_text())) if doc]


def check_command(argv: list[str], where: str) -> None:
    """``argv`` (``tandem ...``) parses against Tandem's click commands, options included."""
    assert argv[0] == "tandem", f"{where}: runs {argv[0]!r}, not tandem"
    _register()
    command: click.Command = cli
    args = argv[1:]
    while isinstance(command, click.Group) and args and args[0] in command.commands:
        command, args = command.commands[args[0]], args[1:]
    assert not isinstance(command, click.Group), f"{where}: {' '.join(argv)} names no command"
    try:
        command.make_context(" ".join(argv), list(args), resilient_parsing=False)
    except click.UsageError as e:
        pytest.fail(f"{where}: {' '.join(argv)}: {e.format_message()}")


def check_env(name: str, where: str) -> None:
    if not name.startswith("TANDEM__"):
        return
    match = ENV_NAME.match(name)
    assert match, f"{where}: {name} is not TANDEM__SECTION__KEY"
    section, key = match[1].lower(), match[2].lower()
    assert section in Settings.model_fields, f"{where}: {name}: no settings section {section!r}"
    fields = Settings.model_fields[section].annotation.model_fields  # type: ignore[union-attr]
    assert key in fields, f"{where}: {name}: [{section}] has no key {key!r}"


def check_toml(text: str, where: str) -> None:
    Settings(**tomllib.loads(text))  # unknown keys and bad values raise, naming the key


@pytest.mark.parametrize("name,doc", manifest_docs(), ids=[n for n, _ in manifest_docs()])
def test_every_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, kubernetes_validate.utils.latest_version(), strict=True)


def test_manifests_give_tandem_only_real_commands_settings_and_a_valid_pod_template() -> None:
    docs = dict(manifest_docs())
    config = next(d for d in docs.values() if d["kind"] == "ConfigMap")
    check_toml(config["data"]["tandem.toml"], "configmap tandem.toml")
    template = yaml.safe_load(config["data"]["pod-template.yaml"])
    kubernetes_validate.validate(template, kubernetes_validate.utils.latest_version(), strict=True)
    assert template["spec"]["containers"][0]["name"] == "base"
    secret = next(d for d in docs.values() if d["kind"] == "Secret")
    for name in secret["stringData"]:
        check_env(name, "secret.yaml")
    commands = 0
    for where, doc in docs.items():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            check_command(container["args"], f"{where} {container['name']}")
            for env in container.get("env", []):
                check_env(env["name"], f"{where} {container['name']}")
            commands += 1
    assert commands == 4  # migrate, scheduler, api-server, worker
    # The scheduler's service account may do all the executor does with pods
    role = next(d for d in docs.values() if d["kind"] == "Role" and d["metadata"]["name"] == "tandem-pod-manager")
    verbs = {v for rule in role["rules"] if "pods" in rule["resources"] for v in rule["verbs"]}
    assert {"create", "get", "list", "watch", "patch", "delete"} <= verbs


def test_compose_services_run_real_tandem_commands_with_real_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    check_toml((DEPLOY / "tandem.toml").read_text(), "deploy/tandem.toml")
    services = compose["services"]
    tandem = {name: s for name, s in services.items() if s.get("image", "").startswith("tandem")}
    assert sum(n.startswith("scheduler") for n in tandem) == 2
    assert sum(n.startswith("worker") for n in tandem) == 2
    assert sum(n.startswith("api-server") for n in tandem) == 2
    assert {"postgres", "redis", "nginx"} <= set(services)
    for name, service in tandem.items():
        check_command(service["command"], f"docker-compose service {name}")
        for env in service["environment"]:
            check_env(env, f"docker-compose service {name}")
        assert "./tandem.toml:/opt/tandem/tandem.toml:ro" in service["volumes"], name
        assert service["environment"]["TANDEM_CONFIG"] == "/opt/tandem/tandem.toml"
    # nginx sends traffic to exactly the api-servers
    nginx = (DEPLOY / "nginx-compose.conf").read_text()
    upstreams = set(re.findall(r"server (\S+):8080", nginx))
    assert upstreams == {n for n in tandem if n.startswith("api-server")}


def test_the_image_installs_extras_that_exist() -> None:
    pyproject = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    extras = re.search(r'pip install [^"]*"\.\[([a-z,]+)\]"', dockerfile)
    assert extras, "the Dockerfile installs Tandem with its extras"
    assert set(extras[1].split(",")) <= set(pyproject["project"]["optional-dependencies"])
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (DEPLOY.parent / source).exists(), f"Dockerfile copies {source}, which is missing"
