"""The `h2h` command: a thin shell over the library (rewrite, check, evaluate).

Exit codes (SPEC §4): 0 done and clean, 1 a block violation remains, 2 bad usage or input —
always one line on stderr, never a traceback.
"""

# No `from __future__ import annotations` here: typer reads every command's signature at each
# start, and string annotations would make it `eval` some 280 of them (about 8 ms of a 0.3 s
# `h2h check`); real annotation objects are read as they are.
import gc

# A command starts by building about a million objects (pydantic and typer classes, pymorphy3's
# tag table, the compiled lexicons) and almost none of them is ever garbage. With the default
# thresholds the collector ran ~130 times over them: 50 ms of a 0.35 s `h2h check` of one case.
# Collect rarely instead, as mypy does; `check --jsonl` sets the same. Only the command does
# this: a process that imports the library keeps its own settings.
gc.set_threshold(100_000, 50, 100)

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from rewriter import __version__
from rewriter.errors import H2HError, UsageError

app = typer.Typer(
    name="h2h",
    help="Rewrite a support reply so it reads human to human; block replies that break hard rules.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    no_args_is_help=True,
)


# Options shared by several commands, defined once.
PromptsOption = Annotated[
    Path | None,
    typer.Option(help="Folder of prompt templates overriding the shipped ones (env H2H_PROMPTS)."),
]
GuidelinesOption = Annotated[
    Path | None,
    typer.Option(help="Team guidelines, Markdown, up to 10,000 characters (env H2H_GUIDELINES)."),
]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="A team's rule folder added to the shipped rules; a file with the same id replaces "
        "the shipped rule (repeatable; env H2H_RULES, os.pathsep-separated).",
    ),
]


def _use_rules(folders: list[Path] | None) -> None:
    """--rules wins over H2H_RULES, as every option wins over its variable. It is passed on
    through the environment so worker processes (check --jsonl) read the same folders."""
    from rewriter.paths import RULES_ENV, rule_dirs

    if folders:
        import os

        os.environ[RULES_ENV] = os.pathsep.join(str(f) for f in folders)
    rule_dirs()  # a folder that does not exist is an error now, not at the first check


def _version(value: bool) -> None:
    if value:
        typer.echo(f"h2h {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """h2h: human-to-human support replies, with guardrails."""


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _warn(line: str) -> None:
    typer.echo(line, err=True)


@app.command()
def rewrite(
    case: Annotated[str, typer.Argument(help="Case file (JSON or YAML), or - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    model: Annotated[
        str | None, typer.Option(help="litellm model id, e.g. openai/gpt-4o-mini (env H2H_MODEL).")
    ] = None,
    api_base: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL (env H2H_API_BASE).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per model request (env H2H_TIMEOUT, default 30).")
    ] = None,
    max_attempts: Annotated[
        int, typer.Option(help="Model answers judged before falling back to the offline engine.")
    ] = 3,
    fallback_model: Annotated[
        list[str] | None,
        typer.Option(help="Another model to try when the first fails (repeatable)."),
    ] = None,
    retries: Annotated[
        int | None, typer.Option(help="Retries per call on timeouts, 429 and 5xx (default 2).")
    ] = None,
    no_mask: Annotated[
        bool, typer.Option("--no-mask", help="Send personal data to the model unmasked.")
    ] = False,
    log: Annotated[
        Path | None, typer.Option(help="Append one JSON line per rewrite here (env H2H_LOG).")
    ] = None,
    cache: Annotated[
        bool,
        typer.Option("--cache", help="Reuse a model answer cached on disk (H2H_CACHE_DIR)."),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 when a model was configured but the text is the offline fallback.",
        ),
    ] = False,
    prompts: PromptsOption = None,
    guidelines: GuidelinesOption = None,
    rules: RulesOption = None,
) -> None:
    """Rewrite the draft of CASE. Prints the text to send; warnings go to stderr."""
    _use_rules(rules)
    from rewriter.loading import load_case
    from rewriter.model.loop import rewrite as do_rewrite

    result = do_rewrite(
        load_case(case),
        model,
        api_base=api_base,
        timeout=timeout,
        max_attempts=max_attempts,
        prompts=prompts,
        guidelines=guidelines,
        fallback_models=fallback_model or [],
        retries=retries,
        mask=not no_mask,
        log=log,
        cache=cache,
    )
    if no_mask and result.attempts:
        _warn("h2h: WARNING: --no-mask: personal data was sent to the model as is")
    for error in result.errors:
        if ": misconfigured:" in error:
            _warn(f"h2h: error: model misconfigured: {error}")
    if as_json:
        typer.echo(
            _dump(result.model_dump(mode="json", exclude={"id"} if result.id is None else set()))
        )
    else:
        typer.echo(result.text)
        for error in result.errors:
            _warn(f"h2h: warning: {error}")
        if result.errors:
            _warn("h2h: warning: the model's answer was not used; this is the offline rewrite")
        from rewriter.guard.display import headline

        for v in result.violations:
            _warn(f"h2h: {headline(v)}: {v.message}")
    # A model was configured (a fallback is only possible then) but its answer was not used.
    fell_back = result.source == "offline" and (result.attempts > 0 or bool(result.errors))
    if strict and fell_back:
        _warn("h2h: strict: the text is the offline fallback, not the model's answer")
        raise typer.Exit(1)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def check(
    case: Annotated[
        str | None, typer.Argument(help="Case file (JSON or YAML), or - for stdin.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    jsonl: Annotated[
        str | None, typer.Option("--jsonl", help="A file with one case per line (- for stdin).")
    ] = None,
    summary: Annotated[
        bool, typer.Option(help="With --jsonl: counts per rule and the worst cases, on stderr.")
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            min=0, help="With --jsonl: worker processes; 0 = one per core for long files."
        ),
    ] = 0,
    grounded: Annotated[
        bool,
        typer.Option(
            "--grounded",
            help="Hold the text to the facts and the thread alone: a deadline, amount or "
            "promise they do not state is invented, even in the agent's own draft.",
        ),
    ] = False,
    rules: RulesOption = None,
) -> None:
    """Check a reply (or the draft when there is no reply) against every rule."""
    _use_rules(rules)
    from rewriter.guard.engine import check as do_check

    if (case is None) == (jsonl is None):
        raise UsageError("give either CASE or --jsonl FILE")
    if jsonl is not None:  # JSONL in, JSONL out: one result per line, same order
        raise typer.Exit(_check_jsonl(jsonl, summary, jobs, grounded))
    from rewriter.loading import load_case

    loaded = load_case(case or "-")
    result = do_check(loaded, grounded=grounded)
    checked = loaded.reply if loaded.reply is not None else loaded.draft or ""
    if as_json:
        typer.echo(_dump(result.model_dump(mode="json")))
    elif sys.stdout.isatty():
        from rewriter.guard.display import print_check_rich

        print_check_rich(result, checked)
    else:
        from rewriter.guard.display import format_check

        typer.echo(format_check(result, checked))
    raise typer.Exit(0 if result.ok else 1)


def _check_jsonl(source: str, summary: bool, jobs: int, grounded: bool = False) -> int:
    from rewriter.evals.batch import checking, read_lines
    from rewriter.guard.display import Audit

    audit = Audit()
    worst = 0
    _, items = read_lines(source)
    with checking(items, jobs, grounded) as chunks, _progress(len(items)) as advance:
        for chunk in chunks:
            sys.stdout.write(chunk.output)  # one write per chunk, not one flush per line
            for error in chunk.errors:
                _warn(f"h2h: {error}")
            audit.merge(chunk.audit)
            worst = max(worst, chunk.worst)
            advance(chunk.lines)
    sys.stdout.flush()
    if summary:
        _warn(audit.format())
    return worst


@contextmanager
def _progress(total: int, minimum: int = 200) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr for long jobs on a terminal; nothing otherwise.
    Yields `advance(n=1)`."""
    if total < minimum or not sys.stderr.isatty():
        yield lambda n=1: None
        return
    from rich.progress import Progress

    with Progress(console=__import__("rich.console").console.Console(stderr=True)) as bar:
        task = bar.add_task("checking", total=total)
        yield lambda n=1: bar.advance(task, n)


@app.command("rules")
def rules_(
    ids: Annotated[
        list[str] | None, typer.Argument(help="With --test: the rules to test (default: all).")
    ] = None,
    test: Annotated[
        bool,
        typer.Option(
            "--test", help="Run the rules' examples (must fire / must pass); exit 1 on a miss."
        ),
    ] = False,
    rules: RulesOption = None,
) -> None:
    """List the rules (id, severity, where from, one line each) and the folders they come from;
    with --test, run their examples."""
    _use_rules(rules)
    from rewriter.guard.engine import active_rules

    loaded = active_rules()
    if test:
        raise typer.Exit(_test_rules(loaded, ids or []))
    if ids:
        raise UsageError("rule ids are for --test; `h2h rules` alone lists every rule")
    sources = _describe_rule_folders()
    width = max(len(r.id) for r in loaded)
    for r in loaded:
        origin = sources.get(r.path.parent if r.path else None, "?")
        typer.echo(f"{r.id:<{width}}  {r.severity:<5}  {origin:<7}  {r.one_line}")


def _describe_rule_folders() -> dict[Path | None, str]:
    """Print the folders in use (stderr keeps stdout one rule per line); their short names."""
    import os

    from rewriter.paths import RULES_ENV, folder_digest, is_checkout, rule_dirs

    dirs = rule_dirs()
    names: dict[Path | None, str] = {}
    _warn("h2h: rule folders, a later one replacing a rule of the same id:")
    for i, folder in enumerate(dirs):
        if i == 0:
            names[folder] = "shipped"
            how = "read in place from the checkout" if is_checkout() else "installed copy"
            _warn(f"  shipped  {folder}  ({how})")
        else:
            names[folder] = f"team-{i}"
            _warn(f"  team-{i}   {folder}  ({RULES_ENV} / --rules)")
    here = Path.cwd() / "guardrails"
    if (
        not is_checkout()
        and here.is_dir()
        and here.resolve() not in dirs
        and any(here.glob("*.yaml"))
        and folder_digest(here.resolve()) != folder_digest(dirs[0])
    ):
        _warn(
            f"h2h: note: {here} differs from the installed rules and is NOT used; "
            f"pass --rules {os.path.relpath(here)} (or {RULES_ENV}), or install with pip -e"
        )
    return names


def _test_rules(loaded: tuple[Any, ...], ids: list[str]) -> int:
    from rewriter.guard.ruletest import run_examples

    known = {r.id: r for r in loaded}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UsageError(f"no rule {unknown[0]!r} (h2h rules lists them)")
    failed = 0
    for rule in [known[i] for i in ids] if ids else loaded:
        outcomes = run_examples(rule)
        bad = [o for o in outcomes if o.problem]
        failed += len(bad)
        typer.echo(f"{rule.id}: {len(outcomes) - len(bad)}/{len(outcomes)} examples behave")
        for o in bad:
            typer.echo(f"  FAIL {o.expect}[{o.index}]: {o.problem}: {o.example.text}")
        if not rule.examples.fire or not rule.examples.pass_:
            failed += 1
            typer.echo("  FAIL: a rule needs examples that must fire and examples that must pass")
    return 1 if failed else 0


@app.command()
def prompt(
    case: Annotated[str, typer.Argument(help="Case file (JSON or YAML), or - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the messages as JSON.")] = False,
    no_mask: Annotated[
        bool, typer.Option("--no-mask", help="Show personal data as is (as --no-mask sends it).")
    ] = False,
    prompts: PromptsOption = None,
    guidelines: GuidelinesOption = None,
    rules: RulesOption = None,
) -> None:
    """Print the exact messages a model would receive for CASE (personal data already masked),
    and their token counts."""
    _use_rules(rules)  # a team's lexicons/ change how the thread is read
    from rewriter.loading import load_case
    from rewriter.model.pii import Masker
    from rewriter.model.prompting import PromptSettings, build_messages
    from rewriter.model.tokens import count_messages, count_tokens

    loaded = load_case(case)
    if not no_mask:
        loaded = Masker().mask_case(loaded)
    messages = build_messages(loaded, PromptSettings.resolve(prompts, guidelines))
    if as_json:
        typer.echo(_dump(messages))
        return
    for m in messages:
        typer.echo(f"----- {m['role']} ({count_tokens(m['content'])} tokens) -----")
        typer.echo(m["content"])
    typer.echo(f"----- {count_messages(messages)} tokens in all (o200k) -----")


eval_app = typer.Typer(
    help="Rewrite the golden cases and score them; `h2h eval compare A B` compares two runs.",
    add_completion=False,
)
app.add_typer(eval_app, name="eval")


@eval_app.callback(invoke_without_command=True)
def eval_(
    ctx: typer.Context,
    cases: Annotated[
        Path | None, typer.Option(help="A case file or folder (default: the shipped golden cases).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="litellm model id (env H2H_MODEL); none = offline engine.")
    ] = None,
    api_base: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL.")] = None,
    concurrency: Annotated[int, typer.Option(help="Cases rewritten at once.")] = 4,
    out: Annotated[Path | None, typer.Option(help="Write report.json and report.md here.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per model request.")] = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse model answers cached on disk; --no-cache to ask anew.")
    ] = True,
    judge: Annotated[
        str | None, typer.Option(help="Also score each rewrite 1-5 per principle with this model.")
    ] = None,
    repeat: Annotated[
        int, typer.Option(help="Run each case N times: pass^N and flaky cases (fresh answers).")
    ] = 1,
    prompts: PromptsOption = None,
    guidelines: GuidelinesOption = None,
    rules: RulesOption = None,
) -> None:
    """Rewrite every golden case and score the results."""
    if ctx.invoked_subcommand is not None:
        return
    _use_rules(rules)
    from rewriter.evals.evaluate import evaluate, load_eval_cases, write_report

    with _progress(len(load_eval_cases(cases)), minimum=2) as advance:
        report = evaluate(
            cases,
            model=model,
            api_base=api_base,
            timeout=timeout,
            concurrency=concurrency,
            cache=cache,
            judge=judge,
            repeat=repeat,
            prompts=prompts,
            guidelines=guidelines,
            on_case_done=advance,
        )
    s = report.summary
    for c in report.cases:
        if not c.passed:
            _warn(f"FAIL {c.id}: {'; '.join(c.fail_reasons) or 'failed'}")
    typer.echo(
        f"{s['passed']}/{s['cases']} passed (pass rate {s['pass_rate']:.2f}), "
        f"facts kept {s['facts_kept']:.2f}, {s['wall_s']:.1f} s, model {s['model'] or 'offline'}"
    )
    if s["model_pass_rate"] is not None:
        typer.echo(
            f"model pass rate {s['model_pass_rate']:.2f} (its own answers only), "
            f"fallback rate {s['fallback_rate']:.2f}, "
            f"texts passing with the fallback's {s['output_pass_rate']:.2f}"
        )
    if s["repeat"] > 1:
        typer.echo(
            f"pass^{s['repeat']} {s['pass_hat_n']:.2f} (passed all {s['repeat']} runs); "
            f"flaky: {', '.join(s['flaky']) or 'none'}"
        )
    if s["judge_means"]:
        means = ", ".join(f"{k} {v}" for k, v in s["judge_means"].items())
        typer.echo(f"judge {s['judge']}: {means}")
    if s["judge_unparsed"]:
        _warn(f"h2h: warning: {s['judge_unparsed']} judge answers could not be read")
    if out is not None:
        typer.echo(f"report: {write_report(report, out)}")
    raise typer.Exit(0 if s["passed"] == s["cases"] else 1)


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[
        Path, typer.Argument(help="The earlier run: a folder with report.json, or the file.")
    ],
    run_b: Annotated[Path, typer.Argument(help="The later run.")],
    min_pass_rate: Annotated[
        float | None, typer.Option(help="Also fail when run B passes fewer than this share.")
    ] = None,
) -> None:
    """What got better and worse from run A to run B (regressions first). Exits 1 when the pass
    rate dropped or is under --min-pass-rate."""
    from rewriter.evals.evaluate import compare_reports, load_report

    b = load_report(run_b)
    lines, dropped = compare_reports(load_report(run_a), b)
    for line in lines:
        typer.echo(line)
    below = min_pass_rate is not None and b["summary"]["pass_rate"] < min_pass_rate
    if below:
        typer.echo(f"pass rate {b['summary']['pass_rate']:.4f} is under {min_pass_rate}")
    raise typer.Exit(1 if dropped or below else 0)


@app.command("bench-rules")
def bench_rules_(
    corpus: Annotated[
        Path | None, typer.Option(help="A labelled file or folder (default: evals/guardrails).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the scores here.")
    ] = None,
    errors: Annotated[bool, typer.Option(help="List every false positive and negative.")] = False,
    rules: RulesOption = None,
    only: Annotated[
        str | None,
        typer.Option(
            help="Score only these rule ids (comma-separated), for a corpus that labels only "
            "some rules."
        ),
    ] = None,
) -> None:
    """Per-rule precision, recall and F1 of the guardrails on a labelled corpus (YAML or JSONL
    cases with `expect`, and optionally `allow`: rules that may fire without penalty)."""
    _use_rules(rules)
    from rewriter.evals.rulebench import bench_rules, format_table, write_json

    ids = [r.strip() for r in only.split(",") if r.strip()] if only else None
    report = bench_rules(corpus, ids)
    typer.echo(format_table(report))
    if errors:
        for e in report.errors:
            typer.echo(f"{e['kind']:14} {e['rule']:22} {e['case']}: {e['reply']}")
    if json_out is not None:
        write_json(report, json_out)
    raise typer.Exit(0)


def _needs_extra(module: str) -> None:
    """The server commands' dependencies are the `h2h[serve]` extra: say so in one line."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise UsageError(
            f"this command needs the server extra: pip install 'h2h[serve]' ({module})"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (one per core for CPU-bound checks).")
    ] = 1,
    rules: RulesOption = None,
) -> None:
    """Serve check, rewrite and the rules over HTTP, with a playground at / and the Chatwoot
    dashboard app at /chatwoot. Token: H2H_API_TOKEN; model: H2H_MODEL (docs/serve.md)."""
    _use_rules(rules)  # passed on to the workers through H2H_RULES
    for module in ("fastapi", "uvicorn", "prometheus_client"):
        _needs_extra(module)
    from rewriter.serve.runner import serve as run

    raise typer.Exit(run(host, port, workers))


@app.command()
def mcp(rules: RulesOption = None) -> None:
    """Serve check, rewrite and the rules as tools of an MCP server over stdio."""
    _use_rules(rules)
    _needs_extra("mcp")
    from rewriter.mcp_server import run

    run()
    raise typer.Exit(0)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: maps every failure to an exit code and one stderr line.

    Typer may run on click or on its vendored copy of it, so its exceptions are recognised by
    shape (`exit_code`, `format_message`) rather than by class.
    """
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="h2h", standalone_mode=False)
    except H2HError as exc:
        _warn(f"h2h: error: {' '.join(str(exc).split())}")
        code = 2
    except (KeyboardInterrupt, typer.Abort):
        _warn("h2h: aborted")
        code = 130
    except Exception as exc:
        if hasattr(exc, "format_message"):  # click's UsageError / BadParameter / ClickException
            _warn(f"h2h: error: {' '.join(exc.format_message().split())}")
            code = 2
        elif hasattr(exc, "exit_code"):  # typer.Exit / click Exit
            code = exc.exit_code
        else:
            raise
    if not isinstance(code, int):
        code = 0
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
