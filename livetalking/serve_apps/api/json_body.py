"""JSON request bodies are parsed strictly (pydantic's parser): text with an unpaired surrogate, which no database
can store as UTF-8, is bad input (422), not a server error."""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic_core import from_json


def strict_loads(body: bytes) -> Any:
    """The parsed body, or json.JSONDecodeError (which FastAPI and the API's error handlers answer with a 422)."""
    try:
        return from_json(body)
    except ValueError as e:
        raise json.JSONDecodeError(str(e), body.decode("utf-8", "replace"), 0) from e


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route whose handler sees a StrictJSONRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
