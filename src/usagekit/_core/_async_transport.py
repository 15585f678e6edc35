"""The send loop over ``httpx.AsyncClient``: send, follow redirects, read, retry.

Everything that does no I/O is :class:`~usagekit._core._sansio.TransportCore`'s; this module
only sends a request (following redirects), reads its body within the attempt's bounds, and
retries as the policy says.
"""

from __future__ import annotations

import time
from typing import Any, TypeVar, overload

import httpx
from tenacity import AsyncRetrying

from . import bounded
from ._http import Answer, RequestSpec, TransportConfig
from ._sansio import AsyncSleep, TransportCore, async_sleep
from .errors import UsagekitError
from .ratelimit import AdaptiveRateLimiter

__all__ = ["AsyncTransport"]

T = TypeVar("T")


class AsyncTransport(TransportCore):
    """Asynchronous transport over ``httpx.AsyncClient``.

    Each attempt ends by its deadline (see :meth:`TransportCore.async_attempt_scope`) and keeps
    at most ``max_response_bytes`` of decoded body.

    Args:
        config: The provider's configuration.
        http_client: An ``httpx.AsyncClient`` to use; its lifecycle then stays with the caller.
        sleep: What waits between attempts (inject one in tests).
        rate_limiter: The adaptive rate limiter to share (see :class:`TransportCore`).
    """

    def __init__(
        self,
        config: TransportConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        # unasync: sync sleep: Sleep = time.sleep,
        sleep: AsyncSleep = async_sleep,  # unasync: remove
        rate_limiter: AdaptiveRateLimiter | None = None,
    ) -> None:
        super().__init__(config, rate_limiter)
        self._owns_client = http_client is None
        self.http_client = http_client or bounded.cookieless(
            httpx.AsyncClient(follow_redirects=False, cookies=bounded.no_cookies())
        )
        # unasync: sync bounded.install_deadline_hook(self.http_client)
        self.sleep = sleep

    def derive(self, config: TransportConfig) -> AsyncTransport:
        """Return a transport with another config sharing this one's connection pool.

        Args:
            config: The new configuration.

        Returns:
            The transport (it does not own the pool; its rate limiter is shared).
        """
        return AsyncTransport(
            config, http_client=self.http_client, sleep=self.sleep, rate_limiter=self.rate_limiter
        )

    async def aclose(self) -> None:
        """Close the connection pool, if this transport created it."""
        if self._owns_client:
            await self.http_client.aclose()

    async def _attempt(self, spec: RequestSpec) -> Answer:
        wait = self.pace()
        if wait > 0:
            await self.sleep(wait)
        started = time.monotonic()
        clock = self.start_clock()
        with self.async_attempt_scope(spec, clock):
            response = await self._exchange(spec, clock)
        self.log_response(spec, response, started)
        self.settle(spec, response.request, response)
        return response

    async def _exchange(self, spec: RequestSpec, clock: bounded.AttemptClock) -> Answer:
        request = self.build_request(self.http_client, spec, clock)
        hops = 0
        while True:
            try:
                response = await self.http_client.send(request, stream=True, follow_redirects=False)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise self.connection_error(spec, exc, clock) from None
            try:
                follow = self.follow(self.http_client, hops, request, response, clock)
                if follow is None:
                    return await self._read(spec, response, clock)
            finally:
                await response.aclose()
            request, hops = follow, hops + 1

    async def _read(
        self, spec: RequestSpec, response: httpx.Response, clock: bounded.AttemptClock
    ) -> Answer:
        reader = self.body_reader(spec, response)
        try:
            if response.is_stream_consumed:  # read by the client's transport (a mock)
                # unasync: sync if reader.feed(response.content) and clock.expired():
                # unasync: sync     raise self.deadline_error(spec, clock)
                reader.feed(response.content)  # unasync: remove
            else:
                # unasync: sync for chunk in response.iter_raw():
                async for chunk in response.aiter_raw():  # unasync: remove
                    if not reader.feed(chunk):
                        break
                    if clock.expired():
                        raise self.deadline_error(spec, clock)
            body = reader.finish()
        except (httpx.HTTPError, bounded.BodyTooLarge, bounded.UndecodableBody) as exc:
            raise self.body_error(spec, response, exc, clock) from None
        return self.finished(response, body)

    async def send(self, spec: RequestSpec) -> Answer:
        """Send a request, retrying as the policy says.

        Args:
            spec: The request.

        Returns:
            The successful (2xx) response, body read and decoded.

        Raises:
            APIError: The final error status, after retries.
            APIConnectionError: The final connection failure, after retries.
            APITimeoutError: The final attempt ran past its timeout.
            ResponseTooLargeError: The body is larger than ``max_response_bytes``.
            ConfigError: The request URL cannot be built.
        """
        try:
            return await self._attempt(spec)
        except UsagekitError as error:
            pending = self.first_failure(error)

        async def attempt(spec: RequestSpec) -> Answer:
            if pending:
                raise pending.pop()
            return await self._attempt(spec)

        retrying = AsyncRetrying(sleep=self.sleep, **self.retrying_arguments(spec))
        response: Answer = await retrying(attempt, spec)
        return response

    @overload
    async def request(self, spec: RequestSpec, type_: type[T]) -> T: ...
    @overload
    async def request(self, spec: RequestSpec, type_: Any) -> Any: ...
    async def request(self, spec: RequestSpec, type_: Any) -> Any:
        """Send a request and validate its body into ``type_``.

        Args:
            spec: The request.
            type_: A model, or any type pydantic validates (``list[Model]``, an annotated
                union, ...).

        Returns:
            The validated body.

        Raises:
            ResponseValidationError: The body is not JSON or not of the documented shape.
            APIError: As :meth:`send` (and its other errors).
        """
        return self.decode(spec, await self.send(spec), type_)
