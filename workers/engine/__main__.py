"""``python -m workers.engine --host 127.0.0.1 --port 8001``: serve one base model and its adapters."""

from __future__ import annotations

import logging

import uvicorn

from workers.engine.app import create_app
from workers.engine.config import config_from_args, parser
from workers.engine.engine import Engine


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = Engine(config_from_args(args))
    # One worker process: the model and the scheduler thread live in it.
    uvicorn.run(create_app(engine), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
