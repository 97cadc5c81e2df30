"""`python -m rewriter.serve.openapi > docs/openapi.json`: the committed copy of the schema, which
a test compares with the served one so that every API change is a deliberate one."""

from __future__ import annotations

import json
import sys
from typing import Any

from rewriter.serve.app import create_app
from rewriter.serve.settings import Settings


def document() -> dict[str, Any]:
    app = create_app(Settings())
    while not hasattr(app, "openapi"):  # the ASGI layers in front of FastAPI
        app = app.app
    return app.openapi()


if __name__ == "__main__":
    sys.stdout.write(json.dumps(document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n")
