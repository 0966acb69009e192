"""How errors reach clients: typed codes kept, internals masked in production."""

from __future__ import annotations

from graphql import GraphQLError

from authz.errors import Forbidden
from schema.extensions import classify


def _located(original: Exception) -> GraphQLError:
    return GraphQLError(str(original), path=["x"], original_error=original)


def test_unexpected_exceptions_are_masked_in_production_with_the_request_id():
    error = classify(_located(RuntimeError("password=hunter2 in SQL")), mask=True, request_id="req-1")
    assert "hunter2" not in error.message
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}


def test_unexpected_exceptions_show_their_message_in_development():
    error = classify(_located(RuntimeError("boom")), mask=False, request_id="req-2")
    assert error.message == "boom"
    assert error.extensions["code"] == "INTERNAL_SERVER_ERROR"


def test_refusals_keep_their_code_and_bilingual_message():
    error = classify(_located(Forbidden()), mask=True, request_id=None)
    assert error.extensions == {"code": "FORBIDDEN"}
    assert error.message == "无权访问 / not allowed"
