"""A bounded schemathesis run against the app's own /openapi.json: every check, the write
routes with a valid key, a few examples per operation. Zero 5xx, zero schema violations."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.fakes import ToyEmbedder
from tests.servers import serve_in_thread

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini-corpus"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    executable = Path(sys.executable).parent / "schemathesis"
    if not executable.exists():
        executable = Path(shutil.which("schemathesis") or "schemathesis")
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("schemathesis")
    app = app_over(settings, ToyEmbedder(), ingest=[MINI])
    with serve_in_thread(app) as base:
        done = subprocess.run(
            [
                str(executable),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "5",
                "--seed",
                "1",
                "--request-timeout",
                "30",
                "-H",
                f"Authorization: Bearer {key}",
            ],
            cwd=ROOT,  # schemathesis.toml: the 422 of semantic validation is documented
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
