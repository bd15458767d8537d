"""``totetaxi plugin new`` and ``totetaxi revision``, as a plugin author runs them.

The scaffold's promise is that what it generates works at once, so the test does what an author
would: generate a plugin with a slot into a temporary folder, install it (a wheel into a folder
of its own, put on ``PYTHONPATH`` of subprocesses only: this process never imports it, so its
tables never join the metadata the rest of the suite compares with its migrations), run its
generated tests and its import contract (``lint-imports``), start the app with it enabled and use
its API and console page, then change a model and have ``totetaxi revision`` write the migration
on the plugin's branch (ruff-formatted).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from totetaxi_core.revisions import RevisionError, autogenerate
from totetaxi_core.scaffold import ScaffoldError, new_plugin, plan

ROOT = Path(__file__).resolve().parents[2]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The ``parcels`` plugin with a ``tracker`` slot, generated and installed once."""
    base = tmp_path_factory.mktemp("scaffold")
    source = new_plugin("parcels", slot="tracker", path=base)
    site = base / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {"base": base, "source": source, "site": site}


@pytest.fixture(scope="module")
def run(generated: dict[str, Path]) -> Run:
    """Run a command with the generated plugin importable (and no TOTETAXI_ overrides)."""

    def runner(
        *command: str, cwd: Path = ROOT, timeout: int = 180
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOTETAXI_")}
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(generated["site"]), env.get("PYTHONPATH", "")])
        )
        return subprocess.run(
            list(command), capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
        )

    return runner


def test_generated_files(generated: dict[str, Path]) -> None:
    package = generated["source"] / "totetaxi_parcels"
    for room in (
        "__init__.py",
        "models.py",
        "hooks.py",
        "hookspecs.py",
        "api.py",
        "console.py",
        "permissions.py",
        "tasks.py",
        "seed.py",
        "interfaces.py",
        "adapters/mock.py",
        "adapters/real.py",
        "templates/items.jinja2",
        "migrations/versions/parcels0001_parcels.py",
    ):
        assert (package / room).is_file(), room
    first = (package / "migrations/versions/parcels0001_parcels.py").read_text()
    assert 'branch_labels = ("parcels",)' in first
    assert f'depends_on = "{plan("parcels").core_revision}"' in first
    entry_points = generated["site"] / "totetaxi_parcels-0.1.0.dist-info/entry_points.txt"
    assert entry_points.read_text().split("[totetaxi.plugins]")[1].split() == [
        "parcels",
        "=",
        "totetaxi_parcels",
        "parcels_mock",
        "=",
        "totetaxi_parcels.adapters.mock",
        "parcels_real",
        "=",
        "totetaxi_parcels.adapters.real",
    ]
    # The wheel ships the folders setuptools does not see as packages.
    assert (generated["site"] / "totetaxi_parcels/templates/items.jinja2").is_file()
    assert (
        generated["site"] / "totetaxi_parcels/migrations/versions/parcels0001_parcels.py"
    ).is_file()


#: Names at the length limit of the scaffold's names (20), without underscores so that the
#: class names made of them (``Llll...Item``, ``Http``/``Mock`` + the slot's) are as long as any.
LONGEST = {"name": "l" * 20, "slot": "s" * 20, "real": "r" * 20}


def test_generated_code_passes_its_lint(
    generated: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    """Clean under the project's ruff rules and its formatter (``make lint``), with the settings
    the generated pyproject.toml carries (its own package first-party, the core third-party):
    with a slot and without, for short names and for names at the length limit, so that no
    line grows past the line length and the formatter's layout does not depend on a name."""
    long = LONGEST["name"]
    variants = (
        generated["source"],  # parcels, slot tracker
        new_plugin("memos", path=tmp_path / "short"),
        new_plugin(long, path=tmp_path / "long"),
        new_plugin(long, slot=LONGEST["slot"], real=LONGEST["real"], path=tmp_path / "slot"),
    )
    ruff = str(Path(sys.executable).parent / "ruff")
    for source in variants:
        for command in (("check",), ("format", "--check")):
            linted = run(ruff, *command, "--no-cache", ".", cwd=source)
            assert linted.returncode == 0, f"{source}: {linted.stdout}{linted.stderr}"


def test_a_core_slot_gets_providers_of_the_cores_hook(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--slot dispatcher`` (a slot the core declares): the same interface, providers and
    contract test, no hookspec of its own; the providers answer ``totetaxi_dispatcher``, which
    is what the core's callers ask. Nobody else may be using the slot (faked here: logistics
    uses it in this repository)."""
    import totetaxi_core.scaffold as scaffold

    monkeypatch.setattr(scaffold, "_declared_slots", dict)
    source = new_plugin("couriers", slot="dispatcher", path=tmp_path)
    package = source / "totetaxi_couriers"
    assert not (package / "hookspecs.py").exists()
    init = (package / "__init__.py").read_text()
    assert "add_hookspecs" not in init
    assert 'requires=("dispatcher",)' in init
    for adapter in ("mock.py", "real.py"):
        assert "def totetaxi_dispatcher(ctx: Any)" in (package / "adapters" / adapter).read_text()
    assert 'ctx.call_hook("totetaxi_dispatcher")' in (package / "tasks.py").read_text()
    ruff = str(Path(sys.executable).parent / "ruff")
    for command in (("check",), ("format", "--check")):
        linted = run(ruff, *command, "--no-cache", ".", cwd=source)
        assert linted.returncode == 0, f"{source}: {linted.stdout}{linted.stderr}"


def _core_imports(path: Path) -> set[str]:
    """The modules of the core that a Python file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] == "totetaxi_core"}


def test_generated_code_imports_only_the_public_api(generated: dict[str, Path]) -> None:
    """What no import contract sees: the package imports only the plugin API (its own
    ``lint-imports`` checks that too), its migrations also the column types, its tests also the
    test kit (neither is a package, so import-linter never reads them)."""
    allowed = {
        "package": {"totetaxi_core.plugin_api"},
        "migrations": {"totetaxi_core.plugin_api", "totetaxi_core.db.types"},
        "tests": {
            "totetaxi_core.plugin_api",
            "totetaxi_core.testing",
            "totetaxi_core.testing.permissions",
        },
    }
    for path in generated["source"].rglob("*.py"):
        part = (
            "tests"
            if "tests" in path.parts
            else "migrations"
            if "versions" in path.parts
            else "package"
        )
        assert _core_imports(path) <= allowed[part], path


def test_generated_project_keeps_its_import_contract(
    generated: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    """``lint-imports`` in the generated project (its pyproject's contract, the core's contract
    type) passes; a copy whose package imports a core internal fails, naming the import. Run from
    the project's folder, which lint-imports puts first on ``sys.path``: the copy is checked, not
    the installed wheel."""
    lint_imports = str(Path(sys.executable).parent / "lint-imports")
    kept = run(lint_imports, "--no-logo", "--no-cache", cwd=generated["source"])
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "1 kept, 0 broken" in kept.stdout

    copy = tmp_path / "copy"
    shutil.copytree(generated["source"], copy)
    models = copy / "totetaxi_parcels" / "models.py"
    line = len(models.read_text().splitlines()) + 1
    with models.open("a") as appended:
        appended.write("from totetaxi_core.bookings.lifecycle import TRANSITIONS  # noqa: E402\n")
    broken = run(lint_imports, "--no-logo", "--no-cache", cwd=copy)
    out = " ".join(broken.stdout.split())  # the report wraps long lines
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "0 kept, 1 broken" in out
    assert f"totetaxi_parcels.models -> totetaxi_core.bookings.lifecycle (l.{line})" in out


def test_generated_tests_pass(generated: dict[str, Path], run: Run) -> None:
    tests = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(generated["source"] / "tests"),
        cwd=generated["source"],
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    # Every generated test ran and passed: none skipped, none deselected.
    summary = tests.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), summary


APP_CHECK = textwrap.dedent('''
    """Start the app with the generated plugin enabled; use its API and its console page."""
    import sys

    from totetaxi_core import make_app
    from totetaxi_core.db import make_engine
    from totetaxi_core.migrate import migrate
    from totetaxi_core.platform import prepare
    from totetaxi_core.testing import base_settings, bearer, console_sign_in, make_staff
    from webtest import TestApp

    settings = base_settings(sys.argv[1], **{"totetaxi.plugins": "parcels parcels_mock"})
    platform = prepare(settings, environ={})
    engine = make_engine(platform.settings)
    print("\\n".join(migrate(platform, engine)))
    engine.dispose()
    app = TestApp(make_app(prepare(settings, environ={})),
                  extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    staff = make_staff(app.app.registry, "staff")
    headers = bearer(app, staff.email, staff=True)
    app.post_json("/api/v1/parcels/items", {"title": "From the check"}, headers=headers,
                  status=201)
    items = app.get("/api/v1/parcels/items", headers=headers).json["items"]
    print("items:", sorted((item["title"], item["status"]) for item in items))
    console_sign_in(app, staff)
    page, home = app.get("/console/parcels"), app.get("/console/")
    print("console:", "From the check" in page.text, "/console/parcels" in home.text)
''')


def test_app_starts_with_the_plugin_enabled(tmp_path: Path, run: Run) -> None:
    script = tmp_path / "app_check.py"
    script.write_text(APP_CHECK)
    checked = run(sys.executable, str(script), f"sqlite:///{tmp_path / 'app.sqlite'}")
    assert checked.returncode == 0, checked.stderr[-4000:]
    assert "installed parcels 0.1.0" in checked.stdout
    assert "loaded seed data of parcels" in checked.stdout
    assert (
        "items: [('From the check', 'processed'), ('Welcome to Parcels', 'processed')]"
        in checked.stdout
    )
    assert "console: True True" in checked.stdout


def test_revision_writes_the_next_migration_on_the_plugins_branch(
    generated: dict[str, Path], run: Run
) -> None:
    versions = generated["site"] / "totetaxi_parcels/migrations/versions"
    unchanged = run(
        sys.executable, "-m", "totetaxi_core.cli", "revision", "parcels", "-m", "nothing"
    )
    assert unchanged.returncode == 1
    assert "No change found between the models of 'parcels'" in unchanged.stderr
    assert sorted(p.name for p in versions.glob("*.py")) == ["parcels0001_parcels.py"]

    models = generated["site"] / "totetaxi_parcels/models.py"
    models.write_text(
        models.read_text().replace(
            '    status: Mapped[str] = mapped_column(String(20), default="new")\n',
            '    status: Mapped[str] = mapped_column(String(20), default="new")\n'
            "    note: Mapped[str | None] = mapped_column(String(500))\n",
        )
    )
    written = run(
        sys.executable, "-m", "totetaxi_core.cli", "revision", "parcels", "-m", "item notes"
    )
    assert written.returncode == 0, written.stderr[-4000:]
    revision = versions / "parcels0002_item_notes.py"
    assert f"wrote {revision}" in written.stdout
    text = revision.read_text()
    # ruff (the test extra) formatted what Alembic wrote: double quotes, format-clean.
    assert 'revision = "parcels0002"' in text
    assert 'down_revision = "parcels0001"' in text
    ruff = str(Path(sys.executable).parent / "ruff")
    checked = run(ruff, "format", "--check", "--no-cache", str(revision), cwd=versions)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Only this branch's change: no other plugin's or the core's tables are touched.
    compact = "".join(text.split())  # whatever lines the formatter split
    assert 'op.batch_alter_table("parcels_items"' in compact
    assert 'add_column(sa.Column("note",sa.String(length=500),nullable=True))' in compact
    assert "create_table" not in text and "drop_table" not in text


def test_revision_is_left_as_written_without_ruff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from totetaxi_core import revisions

    written = tmp_path / "x0002_y.py"
    written.write_text("revision = 'x0002'\n")
    monkeypatch.setattr(revisions.importlib.util, "find_spec", lambda name: None)
    revisions._format(written)
    assert written.read_text() == "revision = 'x0002'\n"


@pytest.mark.parametrize("branch", ["core", "example"])
def test_revision_finds_the_repositorys_models_and_migrations_in_step(branch: str) -> None:
    """Every table on the metadata is attributed to its own branch, and none differs."""
    with pytest.raises(RevisionError, match=f"No change found between the models of '{branch}'"):
        autogenerate(branch, "nothing")


def test_revision_of_an_unknown_plugin_is_refused() -> None:
    with pytest.raises(RevisionError, match="No plugin named 'nope' is installed"):
        autogenerate("nope", "anything")


@pytest.mark.parametrize(
    ("name", "slot", "says"),
    [
        ("Parcels", None, "is not usable"),
        ("9lives", None, "is not usable"),
        ("two__underscores", None, "is not usable"),
        ("class", None, "is not usable"),
        ("core", None, "is reserved"),
        (
            "example",
            None,
            "A plugin named 'example' is already installed (distribution totetaxi-example)",
        ),
        ("fresh", "payment_gateway", "Slot 'payment_gateway' is already in use by the installed"),
        (
            "fresh",
            "example_slot",
            "Slot 'example_slot' is already in use by the installed plugin 'example'",
        ),
        ("fresh", "bad-slot", "Slot name 'bad-slot' is not usable"),
    ],
)
def test_bad_names_are_refused(tmp_path: Path, name: str, slot: str | None, says: str) -> None:
    with pytest.raises(ScaffoldError, match=says.replace("(", r"\(").replace(")", r"\)")):
        new_plugin(name, slot=slot, path=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_with_a_sentence_and_never_overwrites(tmp_path: Path, run: Run) -> None:
    first = run(
        sys.executable, "-m", "totetaxi_core.cli", "plugin", "new", "memos", "--path", str(tmp_path)
    )
    assert first.returncode == 0, first.stderr
    assert f"created {tmp_path / 'totetaxi-memos'}" in first.stdout
    again = run(
        sys.executable, "-m", "totetaxi_core.cli", "plugin", "new", "memos", "--path", str(tmp_path)
    )
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"{tmp_path / 'totetaxi-memos'} already exists; nothing was written."
    )


def test_readme_walks_through_both_commands() -> None:
    """README keeps the short walkthrough; the long guide and the hook reference are in docs/."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Writing a plugin\n", 1)[1].split("\n## ", 1)[0]
    assert "totetaxi plugin new" in section and "totetaxi revision" in section
    for linked in ("docs/plugin-guide.md", "docs/hooks.md"):
        assert f"]({linked})" in section and (ROOT / linked).is_file()
    assert "## Hook reference" not in readme


@pytest.mark.parametrize(
    "argv",
    [
        ["revision", "parcels", "-m", "item notes", "site.ini"],
        ["revision", "parcels", "site.ini", "-m", "item notes"],
        ["revision", "-m", "item notes", "parcels", "site.ini"],
    ],
)
def test_revision_takes_its_config_before_or_after_the_message(argv: list[str]) -> None:
    from totetaxi_core.cli import _parse

    args = _parse(argv)
    assert (args.branch, args.message, args.config) == ("parcels", "item notes", "site.ini")
