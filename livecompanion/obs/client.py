"""One session with obs-websocket 5, typed, over simpleobsws (the extra `livecompanion[obs]`).

This is the only module that imports the client library; without it `client_missing()` says so
and the service reports OBS as unavailable instead of failing. simpleobsws was chosen over
obsws-python because it is asyncio-native (obsws-python runs blocking websocket-client calls in
threads), so a session costs no thread and a dead OBS cannot hold up the event loop.

Failures come in two kinds the operator needs told apart:
    ObsUnreachable   nothing answered, the connection dropped, or OBS did not answer in time
    ObsRefused       OBS answered and said no: wrong password (close code 4009), or a request it
                     refused (e.g. code 600: no scene by that name), with OBS's own words
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.exceptions import WebSocketException

log = logging.getLogger(__name__)

EVENTS_SCENES = 1 << 2  # obs-websocket EventSubscription::Scenes: carries CurrentProgramSceneChanged
CLOSE_REASONS = {  # obs-websocket WebSocketCloseCode values a client can meet while identifying
    4009: "OBS refused the password",
    4010: "OBS does not speak this protocol version",
}
INSTALL_HINT = "the OBS client is not installed (pip install 'livecompanion[obs]')"


class ObsUnreachable(Exception):
    """OBS did not answer: not running, WebSocket server off, network down, or the link dropped."""


class ObsRefused(Exception):
    """OBS answered and refused: a wrong password, or a request it would not do."""


def client_missing() -> str | None:
    """Why no OBS session can be opened here (the extra is not installed), or None."""
    try:
        import simpleobsws  # noqa: F401
    except ImportError:
        return INSTALL_HINT
    return None


SceneListener = Callable[[str], Awaitable[None]]


class ObsSession:
    """An identified obs-websocket session. Open with `await ObsSession.open(...)`."""

    def __init__(self, client: Any, request_timeout: float) -> None:
        self._client = client
        self._timeout = request_timeout

    @classmethod
    async def open(cls, address: str, password: str | None, *, timeout: float = 3.0,
                   on_program_scene: SceneListener | None = None) -> ObsSession:
        missing = client_missing()
        if missing:
            raise ObsUnreachable(missing)
        import simpleobsws

        client = simpleobsws.WebSocketClient(
            url=address, password=password or "",
            identification_parameters=simpleobsws.IdentificationParameters(eventSubscriptions=EVENTS_SCENES),
        )
        try:
            await asyncio.wait_for(client.connect(), timeout)
        except (OSError, TimeoutError) as exc:
            raise ObsUnreachable(f"nothing answered at {address} ({_why(exc)})") from None
        except WebSocketException as exc:  # a handshake refused: something answered, not obs-websocket
            raise ObsUnreachable(f"{address} did not accept a websocket: {_why(exc)}") from None
        session = cls(client, timeout)
        await session._identified(address, timeout)
        if on_program_scene is not None:
            async def changed(data: dict[str, Any] | None) -> None:
                name = (data or {}).get("sceneName")
                if isinstance(name, str):
                    await on_program_scene(name)

            client.register_event_callback(changed, "CurrentProgramSceneChanged")
        return session

    async def _identified(self, address: str, timeout: float) -> None:
        # simpleobsws only says "not identified" after its timeout; watching the socket tells a
        # refused password (OBS closes with 4009) from a slow server at once.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._client.identified:
            if not self._client.ws_open:
                ws = self._client.ws
                code = getattr(ws, "close_code", None)
                reason = getattr(ws, "close_reason", None) or ""
                await self.close()
                if code in CLOSE_REASONS or (code is not None and 4000 <= code < 5000):
                    said = CLOSE_REASONS.get(code, "OBS closed the session")
                    raise ObsRefused(f"{said} (code {code}{': ' + reason if reason else ''})")
                raise ObsUnreachable(f"{address} closed the connection before identifying (code {code})")
            if loop.time() > deadline:
                await self.close()
                raise ObsUnreachable(f"{address} did not finish the obs-websocket handshake in {timeout:g} s")
            await asyncio.sleep(0.02)

    async def _call(self, request_type: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        import simpleobsws

        if not self._client.ws_open:
            raise ObsUnreachable("the connection to OBS is closed")
        try:
            response = await self._client.call(simpleobsws.Request(request_type, data), timeout=self._timeout)
        except simpleobsws.MessageTimeout:
            raise ObsUnreachable(f"OBS did not answer {request_type} in {self._timeout:g} s") from None
        except simpleobsws.NotIdentifiedError:
            raise ObsUnreachable("the session with OBS is not identified") from None
        except WebSocketException as exc:  # the socket closed under the send
            raise ObsUnreachable(f"the connection to OBS dropped ({_why(exc)})") from None
        if not response.ok():
            status = response.requestStatus
            raise ObsRefused(f"OBS refused {request_type}: {status.comment or 'no reason given'} "
                             f"(code {status.code})")
        data_out = response.responseData
        return data_out if isinstance(data_out, dict) else {}

    async def program_scene(self) -> str | None:
        data = await self._call("GetCurrentProgramScene")
        name = data.get("currentProgramSceneName") or data.get("sceneName")
        return name if isinstance(name, str) else None

    async def set_program_scene(self, scene: str) -> None:
        await self._call("SetCurrentProgramScene", {"sceneName": scene})

    async def press_button(self, input_name: str, property_name: str) -> None:
        await self._call("PressInputPropertiesButton", {"inputName": input_name, "propertyName": property_name})

    @property
    def open_now(self) -> bool:
        return bool(self._client.ws_open)

    async def wait_closed(self) -> None:
        """Return when OBS closes the connection (or it drops)."""
        task = self._client.recv_task
        if task is None:
            return
        await asyncio.wait({task})  # never raises what the task raised; our own cancellation passes

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.disconnect()


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
