"""The azd template's structure: every .bicep parses, the right resources at GA API versions, identity-based
access with the right built-in roles, every app setting the app reads, and no secret in any parameter."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from job_monitor import alert_routing, telemetry

from .bicep import INFRA, REPO, bicep_files, deployed, function_call, parse, resources

# Azure built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
BUILT_IN_ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Durable Task Data Contributor": "0ad04412-c4d5-4796-b79c-f76d14c8d402",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
EXPECTED_API_VERSIONS = {
    "Microsoft.Resources/resourceGroups": "2024-03-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
    "Microsoft.Storage/storageAccounts": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2023-05-01",
    "Microsoft.OperationalInsights/workspaces": "2023-09-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.DurableTask/schedulers": "2025-11-01",
    "Microsoft.DurableTask/schedulers/taskHubs": "2025-11-01",
    "Microsoft.Web/serverfarms": "2024-04-01",
    "Microsoft.Web/sites": "2024-04-01",
    "Microsoft.Web/sites/config": "2024-04-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
}
SECRET_LOOKING = re.compile(r"AccountKey=|SharedAccessSignature|InstrumentationKey=|sig=|password|-----BEGIN", re.I)
SECRET_NAMES = re.compile(r"key|secret|password|token|webhook|connection", re.I)


def app_settings() -> dict[str, Any]:
    [settings] = [r for r in deployed("Microsoft.Web/sites/config") if r.config.get("name") == "appsettings"]
    return dict(settings.config["properties"])


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_every_bicep_file_parses(path: Path) -> None:
    document = parse(path)

    assert document.get("resources") or document.get("modules")


def test_the_template_deploys_each_resource_type_at_its_ga_api_version() -> None:
    found: dict[str, set[str]] = {}
    for resource in resources():
        found.setdefault(resource.type, set()).add(resource.api_version)

    assert found == {kind: {version} for kind, version in EXPECTED_API_VERSIONS.items()}
    assert not [v for versions in found.values() for v in versions if "preview" in v]


def test_main_wires_every_module_with_the_parameters_it_declares() -> None:
    main = parse(INFRA / "main.bicep")

    assert main["globals"]["scope"]["value"] == "subscription"
    for symbol, module in main["modules"].items():
        target = parse(INFRA / module["detail"]["path"])
        declared = target.get("parameters") or {}
        required = {name for name, p in declared.items() if p.get("default") is None}
        given = set(module["config"]["params"])
        assert given <= set(declared), f"{symbol}: unknown parameters {given - set(declared)}"
        assert required <= given, f"{symbol}: missing parameters {required - given}"


def test_the_app_is_flex_consumption_python_311_running_as_its_identity() -> None:
    [plan] = deployed("Microsoft.Web/serverfarms")
    [site] = deployed("Microsoft.Web/sites")
    config = site.config["properties"]["functionAppConfig"]

    assert (plan.config["sku"]["name"], plan.config["sku"]["tier"]) == ("FC1", "FlexConsumption")
    assert plan.config["properties"]["reserved"] is True
    assert site.config["kind"] == "functionapp,linux"
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert site.config["identity"]["type"] == "UserAssigned"
    assert config["deployment"]["storage"]["type"] == "blobContainer"
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    assert site.config["properties"]["httpsOnly"] is True


def test_the_durable_task_scheduler_and_its_task_hub_are_deployed() -> None:
    [scheduler] = deployed("Microsoft.DurableTask/schedulers")
    [hub] = deployed("Microsoft.DurableTask/schedulers/taskHubs")

    assert scheduler.config["properties"]["sku"]["name"] == "Consumption"
    assert scheduler.config["properties"]["ipAllowlist"]  # an empty allowlist denies every caller
    assert hub.config["parent"] == scheduler.symbol


def test_the_identity_holds_each_role_it_needs_on_the_resource_it_needs_it() -> None:
    granted = set()
    for assignment in deployed("Microsoft.Authorization/roleAssignments"):
        kind, arguments = function_call(assignment.config["properties"]["roleDefinitionId"])
        assert (kind, arguments["resource_type"]) == ("subscription_resource_id", "Microsoft.Authorization/roleDefinitions")
        role_id = assignment.resolve(arguments["resource_name_1"])
        scope = next(r for r in resources() if r.file == assignment.file and r.symbol == assignment.config["scope"])
        granted.add((role_id, scope.type, assignment.config["properties"]["principalType"]))

    app = "ServicePrincipal"
    assert {
        (BUILT_IN_ROLES["Storage Blob Data Owner"], "Microsoft.Storage/storageAccounts", app),
        (BUILT_IN_ROLES["Storage Queue Data Contributor"], "Microsoft.Storage/storageAccounts", app),
        (BUILT_IN_ROLES["Storage Table Data Contributor"], "Microsoft.Storage/storageAccounts", app),
        (BUILT_IN_ROLES["Durable Task Data Contributor"], "Microsoft.DurableTask/schedulers", app),
        (BUILT_IN_ROLES["Monitoring Metrics Publisher"], "Microsoft.Insights/components", app),
    } <= granted
    assert {role for role, _, _ in granted} <= set(BUILT_IN_ROLES.values())


def test_every_setting_host_json_and_the_app_read_is_set() -> None:
    host = json.loads((REPO / "host.json").read_text(encoding="utf-8"))
    local = json.loads((REPO / "local.settings.json").read_text(encoding="utf-8"))["Values"]
    durable = host["extensions"]["durableTask"]
    read = {
        durable["hubName"].strip("%"),
        durable["storageProvider"]["connectionStringName"],
        telemetry.APPINSIGHTS_SETTING,
        alert_routing.WEBHOOK_SETTING,
        *local,
    }
    # Flex Consumption takes the runtime from functionAppConfig and rejects FUNCTIONS_WORKER_RUNTIME;
    # AzureWebJobsStorage is configured over the identity (AzureWebJobsStorage__accountName / __credential).
    read -= {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"}
    settings = app_settings()

    assert read <= set(settings), f"not set: {read - set(settings)}"
    assert "FUNCTIONS_WORKER_RUNTIME" not in settings
    assert (settings["AzureWebJobsStorage__credential"], "AzureWebJobsStorage__accountName" in settings) == (
        "managedidentity",
        True,
    )
    dts = settings["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]
    assert dts.startswith("Endpoint=${") and ";Authentication=ManagedIdentity;ClientID=${" in dts
    assert settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"].endswith(";Authorization=AAD")
    assert host["telemetryMode"] == "OpenTelemetry"


def test_no_parameter_carries_a_secret_and_no_key_is_ever_read() -> None:
    for path in bicep_files():
        for name, parameter in (parse(path).get("parameters") or {}).items():
            secure = any(d["type"] == "secure" for d in parameter["decorators"])
            default = parameter.get("default")
            assert not (isinstance(default, str) and SECRET_LOOKING.search(default)), f"{path.name}:{name}"
            if SECRET_NAMES.search(name):
                assert secure and default in (None, ""), f"{path.name}: {name} must be @secure() with no default"
        text = path.read_text(encoding="utf-8")
        assert "listKeys(" not in text and "listkeys(" not in text.lower(), path.name
    [storage] = deployed("Microsoft.Storage/storageAccounts")
    [insights] = deployed("Microsoft.Insights/components")
    assert storage.config["properties"]["allowSharedKeyAccess"] is False
    assert insights.config["properties"]["DisableLocalAuth"] is True
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert not [n for n, p in parameters.items() if SECRET_LOOKING.search(json.dumps(p))]


def test_azd_parameters_cover_mains_required_parameters() -> None:
    main = parse(INFRA / "main.bicep")["parameters"]
    given = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]

    required = {name for name, p in main.items() if p.get("default") is None}
    assert required <= set(given)
    assert set(given) <= set(main)
    assert given["alertWebhookUrl"]["value"] == "${ALERT_WEBHOOK_URL=}"  # optional: empty when unset


def test_azure_yaml_deploys_the_repo_root_as_a_python_function_app() -> None:
    document = yaml.safe_load((REPO / "azure.yaml").read_text(encoding="utf-8"))
    [(name, service)] = document["services"].items()

    assert (service["project"], service["language"], service["host"]) == (".", "python", "function")
    assert (document["infra"]["provider"], document["infra"]["path"]) == ("bicep", "infra")
    [site] = deployed("Microsoft.Web/sites")
    kind, arguments = function_call(site.config["tags"])
    assert kind == "union" and name in json.dumps(arguments)  # azd finds the app by its azd-service-name tag
    assert (REPO / "function_app.py").is_file() and (REPO / "requirements.txt").is_file()
