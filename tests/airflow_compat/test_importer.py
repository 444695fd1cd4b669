"""The ``airflow`` import hook: shims win over an installed Apache Airflow; gaps are clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def run_python(code: str, tmp_path: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter: the hook changes sys.meta_path and sys.modules for good.
    path = [str(SRC)] + ([str(extra_path)] if extra_path else [])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": ":".join(path)}, check=False)


def fake_apache_airflow(tmp_path: Path) -> Path:
    """A stand-in for Apache Airflow installed in the same environment."""
    site = tmp_path / "site-packages"
    (site / "airflow" / "sdk").mkdir(parents=True)
    (site / "airflow" / "__init__.py").write_text("REAL = True\n")
    (site / "airflow" / "sdk" / "__init__.py").write_text("REAL = True\nDAG = 'apache'\n")
    return site


def test_shims_are_imported_even_when_apache_airflow_is_installed(tmp_path: Path) -> None:
    # Given an "airflow" package on sys.path, already imported before the hook
    site = fake_apache_airflow(tmp_path)
    result = run_python(
        """
        import airflow.sdk
        assert airflow.sdk.REAL
        from tandem.compat import importer
        importer.install()
        import airflow.sdk
        from airflow.sdk import DAG
        from tandem.sdk.dag import DAG as TandemDAG
        assert issubclass(DAG, TandemDAG), DAG
        assert "REAL" not in vars(airflow)
        print(airflow.sdk.__file__)
        """,
        tmp_path, site,
    )
    # Then the shims are what DAG files see
    assert result.returncode == 0, result.stderr
    assert "tandem/compat/airflow/sdk" in result.stdout


def test_works_without_apache_airflow(tmp_path: Path) -> None:
    result = run_python(
        """
        from tandem.compat import importer
        importer.install()
        from airflow.providers.standard.operators.python import PythonOperator
        from airflow.operators.bash import BashOperator
        from airflow.exceptions import AirflowFailException
        from airflow.utils.edgemodifier import Label
        from airflow.decorators import task_group
        import airflow.utils.trigger_rule
        print("ok")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_unsupported_module_and_name_are_clear_import_errors(tmp_path: Path) -> None:
    result = run_python(
        """
        from tandem.compat import importer
        importer.install()
        for statement in ("import airflow.providers.amazon.aws.hooks.s3",
                          "from airflow.sdk import ObjectStoragePath",
                          "from airflow.operators import email"):
            try:
                exec(statement)
            except ImportError as err:
                print(type(err).__name__, err)
            else:
                raise SystemExit(statement + " did not fail")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("AirflowNotSupported module 'airflow.providers.amazon' is not supported by Tandem 0.1.0")
    assert lines[1].startswith("AirflowNotSupported 'ObjectStoragePath' from 'airflow.sdk' is not supported")
    assert lines[2].startswith("AirflowNotSupported 'email' from 'airflow.operators'")
    assert all("docs/airflow.md" in line for line in lines)


def test_an_unsupported_import_is_the_files_import_error(tmp_path: Path) -> None:
    # Given an Airflow DAG file using a provider Tandem does not ship
    dag_file = tmp_path / "uses_s3.py"
    dag_file.write_text("from airflow.sdk import DAG\nfrom airflow.providers.amazon.aws.operators.s3 import S3Hook\n")
    result = run_python(
        f"""
        from tandem.dag_processing.parser import parse_in_process
        result = parse_in_process({str(dag_file)!r})
        print(result.import_error)
        """,
        tmp_path,
    )
    # Then parsing reports it instead of skipping the file
    assert result.returncode == 0, result.stderr
    assert "'airflow.providers.amazon' is not supported by Tandem" in result.stdout
