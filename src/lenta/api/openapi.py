"""An OpenAPI 3.0 description of lenta's own REST surface, the
Miniflux-compatible API at ``/v1/`` (issue 12), served at
``/v1/openapi.json`` (no sign-in needed to read it). A property-based test
(schemathesis, tests/test_api_openapi.py) checks the server against it.

It describes the reading operations and the status change every client
makes (PUT /v1/entries); the others (creating, changing, deleting feeds
and categories, marking all read, discovery, OPML) are listed in
docs/sync-apis.md and driven through the official client in
tests/test_api_miniflux.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response

from lenta import __version__


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "Bad request"),
    "401": _json(_ref("Error"), "Unauthorized"),
    "404": _json(_ref("Error"), "Not found"),
}
_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
# Numbers as Miniflux reads them: text that is no number in range is the
# default (no filter), so the schema says text; a limit over 1000 is a 400.
_ENTRY_FILTERS = [
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["read", "unread"]}},
    {"name": "starred", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "string"}},
    {"name": "offset", "in": "query", "schema": {"type": "string"}},
    {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["id", "published_at", "created_at"]}},
    {"name": "direction", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"]}},
    {"name": "after_entry_id", "in": "query", "schema": {"type": "string"}},
    {"name": "before_entry_id", "in": "query", "schema": {"type": "string"}},
]


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    entries_ok = {"200": _json(_ref("EntriesResponse")), **_ERRORS}
    return {
        "openapi": "3.0.3",
        "info": {"title": "lenta (Miniflux API v1)", "version": __version__},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}, {"basic": []}],
        "paths": {
            "/v1/me": {"get": {"operationId": "me", "responses": {"200": _json(_ref("User")), "401": _ERRORS["401"]}}},
            "/v1/version": {"get": {"operationId": "version", "responses": {"200": _json({"type": "object"})}}},
            "/v1/categories": {
                "get": {"operationId": "categories", "responses": {"200": _json({"type": "array", "items": _ref("Category")})}}
            },
            "/v1/categories/{category_id}/feeds": {
                "get": {
                    "operationId": "categoryFeeds",
                    "parameters": [_path_id("category_id")],
                    "responses": {"200": _json({"type": "array", "items": _ref("Feed")}), **_ERRORS},
                }
            },
            "/v1/categories/{category_id}/entries": {
                "get": {
                    "operationId": "categoryEntries",
                    "parameters": [_path_id("category_id"), *_ENTRY_FILTERS],
                    "responses": entries_ok,
                }
            },
            "/v1/feeds": {"get": {"operationId": "feeds", "responses": {"200": _json({"type": "array", "items": _ref("Feed")})}}},
            "/v1/feeds/counters": {"get": {"operationId": "counters", "responses": {"200": _json(_ref("Counters"))}}},
            "/v1/feeds/{feed_id}": {
                "get": {
                    "operationId": "feed",
                    "parameters": [_path_id("feed_id")],
                    "responses": {"200": _json(_ref("Feed")), **_ERRORS},
                }
            },
            "/v1/feeds/{feed_id}/entries": {
                "get": {
                    "operationId": "feedEntries",
                    "parameters": [_path_id("feed_id"), *_ENTRY_FILTERS],
                    "responses": entries_ok,
                }
            },
            "/v1/entries": {
                "get": {"operationId": "entries", "parameters": _ENTRY_FILTERS, "responses": entries_ok},
                "put": {
                    "operationId": "updateEntries",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["entry_ids", "status"],
                                    "properties": {
                                        # Ids that are no entry of the user's are skipped, as Miniflux does.
                                        "entry_ids": {
                                            "type": "array",
                                            "items": {"type": "integer"},
                                            "minItems": 1,
                                            "maxItems": 100,
                                        },
                                        "status": {"type": "string", "enum": ["read", "unread"]},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"204": {"description": "Done"}, **_ERRORS},
                },
            },
            "/v1/entries/{entry_id}": {
                "get": {
                    "operationId": "entry",
                    "parameters": [_path_id("entry_id")],
                    "responses": {"200": _json(_ref("Entry")), **_ERRORS},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
                "basic": {"type": "http", "scheme": "basic"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error_message"], "properties": {"error_message": {"type": "string"}}},
                "User": {
                    "type": "object",
                    "required": ["id", "username", "is_admin"],
                    "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "is_admin": {"type": "boolean"}},
                },
                "Category": {
                    "type": "object",
                    "required": ["id", "title", "user_id"],
                    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "user_id": {"type": "integer"}},
                },
                "Feed": {
                    "type": "object",
                    "required": ["id", "feed_url", "site_url", "title", "category", "icon"],
                    "properties": {
                        "id": {"type": "integer"},
                        "feed_url": {"type": "string"},
                        "site_url": {"type": "string"},
                        "title": {"type": "string"},
                        "category": _ref("Category"),
                        "icon": {"type": "object"},
                    },
                },
                "Entry": {
                    "type": "object",
                    "required": ["id", "feed_id", "status", "title", "url", "published_at", "content", "starred", "enclosures"],
                    "properties": {
                        "id": {"type": "integer"},
                        "feed_id": {"type": "integer"},
                        "status": {"type": "string", "enum": ["read", "unread"]},
                        "title": {"type": "string"},
                        "url": {"type": "string"},
                        "published_at": {"type": "string", "format": "date-time"},
                        "content": {"type": "string"},
                        "starred": {"type": "boolean"},
                        "enclosures": {"type": "array"},
                        "feed": _ref("Feed"),
                    },
                },
                "EntriesResponse": {
                    "type": "object",
                    "required": ["total", "entries"],
                    "properties": {"total": {"type": "integer"}, "entries": {"type": "array", "items": _ref("Entry")}},
                },
                "Counters": {
                    "type": "object",
                    "required": ["reads", "unreads"],
                    "properties": {
                        "reads": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "unreads": {"type": "object", "additionalProperties": {"type": "integer"}},
                    },
                },
            },
        },
    }


async def serve(request: Request) -> Response:
    return JSONResponse(document())
