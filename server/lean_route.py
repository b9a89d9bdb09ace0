"""A cheaper path through FastAPI for a busy route's common request (issue 17: ``POST /api/v1/tickets``).

For every request FastAPI's generic handler parses the content type with ``email.message``, decodes the
JSON, validates it field by field, and solves the dependency tree (a response object, the query, header
and cookie parameters of every level, cache keys): on a ticket that is most of the server's own work
outside the framework's routing. ``LeanRoute`` is an ``APIRoute`` that, for an endpoint of one shape
(a JSON body model, the ``Request``, and one dependency that takes only the ``Request``, e.g.
``server.audit.Audited``), serves the common request itself: ``Content-Type: application/json``, a body
the model accepts (``model_validate_json``: decoded and validated in one step), no dependency overrides.
Everything else, every malformed or refused body included, goes through FastAPI's own handler, so errors
(400, 422 and their order against 401/403) are FastAPI's. The OpenAPI document is built from the same
route, unchanged. An endpoint of another shape gets FastAPI's handler only.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Coroutine

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def lean_shape(route: APIRoute) -> tuple[str, type[BaseModel], str, str, Callable] | None:
    """(body parameter, its model, request parameter, dependency parameter, dependency) when ``route`` is of
    the shape ``LeanRoute`` serves, else None."""
    d = route.dependant
    if (d.path_params or d.query_params or d.header_params or d.cookie_params or len(d.body_params) != 1
            or len(d.dependencies) != 1 or not d.request_param_name or d.background_tasks_param_name
            or d.response_param_name or d.http_connection_param_name or d.security_scopes_param_name
            or not inspect.iscoroutinefunction(d.call)):
        return None
    body, dep = d.body_params[0], d.dependencies[0]
    model = body.field_info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)) or route._embed_body_fields:
        return None
    if (dep.dependencies or dep.path_params or dep.query_params or dep.header_params or dep.cookie_params
            or dep.body_params or not dep.request_param_name or dep.name is None or dep.use_cache is not True
            or not inspect.iscoroutinefunction(getattr(dep.call, "__call__", dep.call))):
        return None
    return body.name, model, d.request_param_name, dep.name, dep.call


class LeanRoute(APIRoute):
    """See the module's docstring."""

    def get_route_handler(self) -> Handler:
        generic = super().get_route_handler()
        shape = lean_shape(self)
        if shape is None:
            return generic
        body_name, model, request_name, dep_name, dependency = shape
        endpoint = self.dependant.call

        async def handler(request: Request) -> Response:
            if request.headers.get("content-type") != "application/json" or request.app.dependency_overrides:
                return await generic(request)
            try:
                raw = await request.body()
            except HTTPException:  # a limit's refusal (server/limits.py): as FastAPI passes it on
                raise
            except Exception:  # a body that could not be read: FastAPI's own answer
                return await generic(request)
            try:
                body = model.model_validate_json(raw)
            except ValidationError:  # FastAPI's own answer (400 or 422, after the credential's 401/403)
                return await generic(request)
            result = await endpoint(**{body_name: body, request_name: request,
                                       dep_name: await dependency(request)})
            if not isinstance(result, Response):
                raise TypeError(f"{self.path}: a LeanRoute endpoint returns a Response")
            return result

        return handler
