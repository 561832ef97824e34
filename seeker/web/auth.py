"""The token check of every state-changing request (``Authorization: Bearer <token>``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from seeker.web.settings import TOKEN_ENV, WebSettings

bearer = HTTPBearer(auto_error=False, description="The token of `seeker serve` (never served).")


def settings_of(request: Request) -> WebSettings:
    """Return the app's settings."""
    settings: WebSettings = request.app.state.settings
    return settings


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Refuse with 401 unless the request carries the server's token as a bearer token."""
    token = settings_of(request).token
    challenge = {"WWW-Authenticate": "Bearer"}
    if token is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"state-changing requests are disabled: start `seeker serve` with {TOKEN_ENV} set "
            "(or --token-file)",
            headers=challenge,
        )
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this request changes state: send the token as `Authorization: Bearer <token>`",
            headers=challenge,
        )
    if not token.matches(credentials.credentials):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong token", headers=challenge)


TokenRequired = Depends(require_token)
"""Put in a route's ``dependencies`` to require the token."""
