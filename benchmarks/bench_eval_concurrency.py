"""`h2h eval` concurrency: 20 cases against a scripted server that answers after 0.5 s, at
concurrency 1 and 10. Target (eval issue): concurrency 10 at least 5x faster.

    python benchmarks/bench_eval_concurrency.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import Reply, ScriptedServer  # noqa: E402

from rewriter import evaluate  # noqa: E402

ANSWER = "Карта будет готова 15 марта — напишем, как только её отправят."


def main() -> None:
    server = ScriptedServer()
    server.thread.start()
    server.say(Reply(content=ANSWER, delay=0.5))
    case = {
        "seed": "000_91a5fcf5cca8dd2c.txt",
        "thread": [{"author": "customer", "text": "Когда придёт карта?"}],
        "draft": "Карта будет готова 15 марта.",
        "golden": ANSWER,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "twenty.jsonl"
        path.write_text(
            "\n".join(json.dumps({**case, "id": f"c{i}"}, ensure_ascii=False) for i in range(20)),
            encoding="utf-8",
        )
        walls = {}
        for concurrency in (1, 10):
            report = evaluate(
                path,
                model="openai/test-model",
                api_base=server.url,
                concurrency=concurrency,
                cache=False,
            )
            assert report.summary["passed"] == 20, report.summary
            walls[concurrency] = report.summary["wall_s"]
    speedup = walls[1] / walls[10]
    print(
        f"20 cases, 0.5 s server: concurrency 1 {walls[1]:.2f} s, concurrency 10 "
        f"{walls[10]:.2f} s, speed-up {speedup:.1f}x (target >= 5x)"
    )
    server.httpd.shutdown()


if __name__ == "__main__":
    main()
