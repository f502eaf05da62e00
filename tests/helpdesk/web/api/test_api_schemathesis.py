"""Schemathesis against the OpenAPI document, in-process on the ASGI app, per database.

For every operation of the API (core and plugin) it sends requests generated from the
document, valid and invalid, with an admin's bearer token, and checks that no answer is a
server error and that every answer's status, content type and body are documented. The
run is bounded and repeatable: few examples per operation, derandomized, no deadline.
"""

from __future__ import annotations

import os
from collections import Counter

import factories
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpdesk.services import agents as agent_service
from helpdesk.web.docs import OPENAPI_URL

#: Examples per operation: enough for the edge values (empty, huge, odd characters) the
#: generator tries first, small enough for the default run; HELPDESK_FUZZ_EXAMPLES=200
#: for a deeper run.
EXAMPLES = int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def token(session, admin, data_dir) -> str:
    mailbox = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    factories.ticket(session, mailbox=mailbox, user=factories.user(session, "100102"))
    return agent_service.create_token(session, agent=admin, name="schemathesis")


def test_the_api_answers_as_documented(app, token):
    schema = schemathesis.openapi.from_asgi(
        OPENAPI_URL, app, headers={"Authorization": f"Bearer {token}"}
    )
    auth = {"Authorization": f"Bearer {token}"}
    operations, failures = 0, []
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers=auth, checks=CHECKS)
            statuses[response.status_code] += 1

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    print(f"schemathesis: {operations} operations, answers by status {sorted(statuses.items())}")
    assert operations >= 15  # core and plugin operations are in the document
    assert statuses[200] + statuses[201] > operations  # the token works: not all refused
    assert not failures, "\n\n".join(f[:1500] for f in failures)


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_every_ref_resolves_and_every_error_has_the_problem_shape(client, token):
    document = client.get(OPENAPI_URL, headers={"Authorization": f"Bearer {token}"}).json()
    refs = set(_refs(document))
    assert "#/components/schemas/AttachmentData" in refs  # the reply body's own reference
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"], ref
    assert "HTTPValidationError" not in document["components"]["schemas"]  # never sent
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            answers = operation["responses"]
            for status in ("401", "404", "422"):
                schema = answers[status]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("Problem"), (method, path, status)
