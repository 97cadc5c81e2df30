"""h2h's own overhead on the model path, against a scripted OpenAI-compatible server on
127.0.0.1 that answers after a fixed 200 ms.

    python benchmarks/bench_model_loop.py [--calls 30]

- warm: `rewrite()` in one process, wall time minus the server's 200 ms, per call (goal < 20 ms);
- cold: `h2h rewrite --model openai/… --api-base …` as a new process, minus 200 ms (goal < 1 s).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import Reply, ScriptedServer  # noqa: E402

from rewriter import Case, rewrite  # noqa: E402

LATENCY = 0.2
ANSWER = (
    "Здравствуйте, Максим! Ох, простите, что так вышло :( С 5-го числа изменились тарифы, но ваш "
    "безлимит они не затрагивают. Списание 99 рублей ошибочное — деньги вернутся в течение трёх "
    "рабочих дней."
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=30)
    args = ap.parse_args()
    server = ScriptedServer()
    server.thread.start()
    server.say(Reply(content=ANSWER, delay=LATENCY))
    example = ROOT / "examples" / "tariff-99.json"
    case = Case.model_validate_json(example.read_text(encoding="utf-8"))

    rewrite(case, "openai/test-model", api_base=server.url)  # warm up imports and the client
    overheads = []
    for _ in range(args.calls):
        t0 = time.perf_counter()
        result = rewrite(case, "openai/test-model", api_base=server.url)
        overheads.append(time.perf_counter() - t0 - LATENCY)
        assert result.source == "llm", result.errors
    cold = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rewriter.cli",
                "rewrite",
                str(example),
                "--model",
                "openai/test-model",
                "--api-base",
                server.url,
            ],
            check=True,
            capture_output=True,
        )
        cold.append(time.perf_counter() - t0 - LATENCY)
    print(
        f"warm overhead per rewrite: median {statistics.median(overheads) * 1000:.1f} ms, "
        f"p90 {sorted(overheads)[int(len(overheads) * 0.9)] * 1000:.1f} ms (goal < 20 ms)"
    )
    print(f"cli cold start for a model call: median {statistics.median(cold):.2f} s (goal < 1 s)")
    server.httpd.shutdown()


if __name__ == "__main__":
    main()
