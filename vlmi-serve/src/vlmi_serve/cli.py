"""``vlmi serve MODEL``: a model behind an OpenAI-compatible endpoint."""

from __future__ import annotations

import argparse
import os

from vlmi.plugin import (
    add_generation_arguments,
    add_model_arguments,
    generation_from,
    load_options_from,
)

DESCRIPTION = (
    "Load MODEL and answer POST /v1/chat/completions (OpenAI's shape), GET /v1/models and "
    "GET /health. Concurrent requests are batched into one eval_batch call. Stops on "
    "Ctrl-C or SIGTERM after in-flight requests finish."
)


def run_serve(args: argparse.Namespace) -> int:
    """Load the model and serve it until Ctrl-C or SIGTERM."""
    from .app import ServeSettings, serve

    settings = ServeSettings(
        max_batch_size=args.max_batch_size,
        max_wait_ms=args.max_wait_ms,
        api_key=args.api_key or os.environ.get("VLMI_API_KEY") or None,
        allow_private_urls=args.allow_private_urls,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        request_timeout_s=args.timeout,
        served_name=args.served_name,
    )
    serve(
        args.model,
        {**load_options_from(args), **generation_from(args)},
        settings,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi serve MODEL`` and its flags."""
    parser.add_argument("model", help="model name or alias (see `vlmi models`)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000; 0 = any free one)")
    parser.add_argument("--served-name", help="the model name clients send (default: MODEL)")
    parser.add_argument("--max-batch-size", type=int, default=32, help="requests per batch (32)")
    parser.add_argument(
        "--max-wait-ms", type=float, default=5.0, help="wait for more requests per batch (5 ms)"
    )
    parser.add_argument(
        "--api-key", help="bearer token clients must send (default: $VLMI_API_KEY; none = open)"
    )
    parser.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="fetch image URLs on loopback, private and link-local addresses (refused by default)",
    )
    parser.add_argument(
        "--max-body-mb", type=float, default=128.0, help="largest request body (128 MiB)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="deadline of one request in seconds (600)"
    )
    parser.add_argument("--log-level", default="info", help="uvicorn's log level (info)")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    add_model_arguments(parser)
    add_generation_arguments(parser)


__all__ = ["DESCRIPTION", "add_serve_arguments", "run_serve"]
