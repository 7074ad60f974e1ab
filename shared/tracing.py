"""OpenTelemetry traces, off unless TRACING_ENABLED=true.

When on, a trace follows one change through the services: the HTTP request (profile), the
outbox row (the W3C `traceparent` is stored with the event's headers and published with it),
every consumer (FastStream's Kafka telemetry middleware continues the trace from the headers)
and the email. Spans go to an OTLP/HTTP collector (standard OTEL_EXPORTER_OTLP_* variables),
to the console, or to an in-process memory exporter (tests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.settings import TracingSettings

_MEMORY = InMemorySpanExporter()


def memory_exporter() -> InMemorySpanExporter:
    """Spans of every service in this process when TRACING_EXPORTER=memory."""
    return _MEMORY


def tracer_provider(service: str, settings: TracingSettings) -> TracerProvider | None:
    if not settings.enabled:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": f"mentorlink-{service}"}))
    if settings.exporter == "memory":
        provider.add_span_processor(SimpleSpanProcessor(_MEMORY))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter(settings.exporter)))
    return provider


def _exporter(kind: str) -> SpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


@contextmanager
def continued_trace(
    headers: Mapping[str, str], tracer: trace.Tracer | None, name: str
) -> Iterator[None]:
    """A span in the trace named by these Kafka headers, so outbox rows written in it
    continue that trace: for work a batch subscriber does on behalf of one of its records."""
    if tracer is None or "traceparent" not in headers:
        yield
        return
    parent = propagate.extract(dict(headers))
    with tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.CONSUMER):
        yield


def trace_broker(broker: KafkaBroker, provider: TracerProvider | None) -> None:
    if provider is not None:
        broker.add_middleware(KafkaTelemetryMiddleware(tracer_provider=provider))


def trace_http(app: FastAPI, provider: TracerProvider | None, service: str) -> None:
    """A server span per request, continuing an incoming `traceparent`."""
    if provider is None:
        return
    tracer = provider.get_tracer(f"mentorlink.{service}.http")

    @app.middleware("http")
    async def span_per_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        parent = propagate.extract(dict(request.headers))
        name = f"{request.method} {request.url.path}"
        with tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.SERVER) as span:
            response = await call_next(request)
            span.set_attribute("http.response.status_code", response.status_code)
            return response


def inject_trace_context(headers: dict[str, Any]) -> None:
    """Add the current span's `traceparent` (if any) to outgoing message headers."""
    propagate.inject(headers)


async def shutdown(provider: TracerProvider | None) -> None:
    if provider is not None:
        provider.shutdown()
