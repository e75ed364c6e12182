"""Secrets and path tricks: a Hub token is never logged, written, shown back or put in a card, and
no name or file input can reach outside its folder.

The pushes go to the loopback Hub (tests/support/hub_server.py). The scans read every file we could have
written (the workspace, the run folders, the HF home, the files the Hub received, i.e. the cards
and configs), the CLI's stdout/stderr, the app's log, its page HTML, ``/config`` and API info,
and every value its API returned, and look for the token's bytes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support.hub_data import write_data_folder
from support.hub_server import BOB_TOKEN, WRITE_TOKEN

from pipeline.cli import main

TRICKS = ["../../escape", "..", "a/../../escape", "/tmp/escape", "sft-1/../../../escape", ".hidden"]


def files_holding(roots: list[Path], secret: str) -> list[str]:
    """Every file under ``roots`` whose bytes contain ``secret`` (also URL- or JSON-escaped)."""
    needles = {secret.encode(), json.dumps(secret).encode()}
    found = []
    for root in roots:
        for path in (p for p in Path(root).rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            if any(n in data for n in needles):
                found.append(str(path))
    return found


def test_cli_pushes_and_pull_never_write_or_print_the_token(hub, data_dir, hub_runs, tmp_path, capsys):
    project = data_dir.parent
    shutil.copytree(hub_runs["sft"].parent, project / "runs")
    runs = project / "runs"

    assert main(["push", "--data", str(data_dir), "--repo", "alice/ada-data", "--json"]) == 0
    assert main(["push", "--run", str(runs / "dpo-1"), "--repo", "alice/ada-dpo", "--combined", "--json"]) == 0
    assert main(["pull", "--repo", "alice/ada-dpo", "--out", str(runs / "pulled-dpo"), "--json"]) == 0
    # a rejected token is not echoed back either
    bad = "hf_wrong_secret_0123456789abcdef"
    assert main(["push", "--data", str(data_dir), "--repo", "alice/ada-data", "--json"]) == 0
    os.environ["HF_TOKEN"] = bad  # monkeypatched by the hub fixture, restored after the test
    assert main(["push", "--data", str(data_dir), "--repo", "alice/ada-data"]) == 2
    out, err = capsys.readouterr()

    assert "rejected the token (HTTP 401)" in err
    for secret in (WRITE_TOKEN, bad):
        assert secret not in out + err
        assert files_holding([project, tmp_path / "hf-home", hub.root], secret) == []
    assert (runs / "pulled-dpo" / "adapter" / "adapter_config.json").is_file()
    assert not any(WRITE_TOKEN in r for r in hub.requests)  # never in a URL (only in the Authorization header)


@pytest.fixture
def app(hub, tmp_path):
    """The studio on loopback, its Hub the loopback one, its server token alice's; a sample project with data."""
    from browser.conftest import AppProcess

    root = tmp_path / "projects"
    write_data_folder(root / "sample" / "data")
    app = AppProcess(root)
    yield app
    app.stop()


def endpoints(client) -> dict[str, list[str]]:
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    return {name: [p["parameter_name"] for p in spec["parameters"]] for name, spec in info.items()}


def endpoint(names: dict[str, list[str]], prefix: str, params: list[str]) -> str:
    """The first API endpoint named ``prefix...`` taking ``params`` (Gradio names them after the handler)."""
    return next(name for name, p in names.items() if name.startswith(prefix) and p == params)


def test_app_never_shows_the_token_and_refuses_path_tricks(app, hub, tmp_path):
    import httpx
    from gradio_client import Client

    client = Client(app.url, verbose=False)
    names = endpoints(client)
    client.predict("sample", api_name="/open_project")  # open the project in this session
    push_data = endpoint(names, "/do_push_data", ["repo", "typed", "param_3", "param_4"])  # private, combined
    seen = []

    seen.append(client.predict("alice/ada-app", "", True, False, api_name=push_data))  # the server's token
    seen.append(client.predict("bob/ada-typed", BOB_TOKEN, True, False, api_name=push_data))  # a typed token
    assert "Pushed" in seen[0][0] and "Pushed" in seen[1][0]
    assert ("dataset", "bob/ada-typed") in hub.repos  # bob's typed token really was the one used
    bad = "hf_typed_but_wrong_0123456789abcdef"
    with pytest.raises(Exception) as refused:
        client.predict("alice/ada-app", bad, True, False, api_name=push_data)
    assert "rejected the token (HTTP 401)" in str(refused.value)
    seen.append(str(refused.value))

    # Path tricks through every name input the API takes: projects, runs, the files to build from.
    base = tmp_path.parent
    before = {p for p in base.rglob("*escape*")}
    refusals = {}
    for trick in TRICKS:
        for api, args in ((endpoint(names, "/create", ["name"]), [trick]),
                          (endpoint(names, "/pick", ["name"]), [trick]),
                          (endpoint(names, "/view", ["name"]), [trick]),
                          (endpoint(names, "/do_cancel", ["name"]), [trick]),
                          (endpoint(names, "/do_resume", ["name"]), [trick]),
                          (endpoint(names, "/follow", ["name"]), [trick]),
                          (endpoint(names, "/do_push_run", ["name", "repo", "typed", "param_4", "param_5"]),
                           [trick, "alice/x", "", True, False])):
            with pytest.raises(Exception) as error:
                client.predict(*args, api_name=api)
            refusals[(api, trick)] = str(error.value)
    # refused by name validation, or before that by Gradio (a dropdown only takes one of its choices)
    assert all(("invalid" in m and "name" in m) or "not in the list of choices" in m for m in refusals.values()), refusals
    print(*sorted(f"{api} {trick!r}: {m[:90]}" for (api, trick), m in refusals.items()), sep="\n")
    build = endpoint(names, "/run_build", ["files", "teacher", "url", "teacher_model", "model",
                                          *[f"param_{i}" for i in range(6, 12)]])
    with pytest.raises(Exception):
        client.predict(["../../../etc/passwd"], "none", "", "", "default", None, None, None, None, None, None,
                       api_name=build)

    # an upload named ../../escape.csv lands in the project's uploads/ under a plain name
    upload = httpx.post(app.url + "gradio_api/upload", files={"files": ("../../escape.csv", b"text\nhello there friends\n")})
    server_path = upload.json()[0]
    from gradio_client import handle_file

    client.predict([handle_file(server_path)], [], api_name=endpoint(names, "/on_upload", ["files", "selected"]))
    uploads = sorted(p.name for p in (app.root / "sample" / "uploads").iterdir())
    assert "escape.csv" in uploads
    assert {p for p in base.rglob("*escape*")} - before == {app.root / "sample" / "uploads" / "escape.csv"}
    assert sorted(p.name for p in app.root.iterdir() if not p.name.startswith(".")) == ["sample"]

    # The page, its config and API description, everything the API returned, the log and every file.
    pages = [httpx.get(app.url + path).text for path in ("", "config", "gradio_api/info")]
    for secret in (WRITE_TOKEN, BOB_TOKEN, bad):
        assert not [page for page in pages if secret in page]
        assert secret not in json.dumps(seen, default=str)
        assert secret not in app.log()
        assert files_holding([app.root, hub.root], secret) == []
