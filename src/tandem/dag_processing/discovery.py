"""Finding DAG files: ``*.py`` under a folder, minus what ``.tandemignore`` files exclude.

Invariants:
- the result is sorted and holds absolute, resolved paths, so a file is known by one name
  everywhere (DB rows, parse state, duplicate-id messages);
- hidden folders, hidden files and ``__pycache__`` are never listed;
- a ``.tandemignore`` applies to its own folder and everything below it; its patterns use
  gitignore's glob rules (Airflow's ``.airflowignore`` "glob" syntax): ``#`` comments,
  ``!`` re-includes, a trailing ``/`` matches folders only, a pattern holding a ``/`` is
  anchored at the ignore file's folder, ``*``/``?``/``[..]`` stay within one path segment
  and ``**`` crosses segments. Patterns of inner files are applied after outer ones, and
  the last matching pattern decides;
- in safe mode (the default, like Airflow's) a file is listed only when its text contains
  ``dag`` and one of ``tandem`` or ``airflow`` in any case (Airflow's own test, so Airflow
  DAG files are found), so helper modules are never imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tandem.config import Settings

IGNORE_FILE = ".tandemignore"
EXAMPLE_DAGS_FOLDER = Path(__file__).resolve().parent.parent / "example_dags"
_SAFE_MODE_WORDS = (b"dag",)
_SAFE_MODE_FRAMEWORKS = (b"tandem", b"airflow")


@dataclass(frozen=True)
class IgnoreRule:
    """One pattern of a ``.tandemignore``, bound to the folder holding that file."""

    base: Path
    regex: re.Pattern[str]
    negated: bool
    dirs_only: bool

    def matches(self, path: Path, is_dir: bool) -> bool:
        if self.dirs_only and not is_dir:
            return False
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        return self.regex.fullmatch(rel) is not None


def _glob_to_regex(glob: str) -> str:
    """Translate one gitignore-style glob (without ``!``, trailing ``/``) to a regex body."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2 if glob[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
                continue
            body = glob[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def parse_ignore_file(path: Path) -> list[IgnoreRule]:
    """The rules of one ``.tandemignore``; unreadable files yield no rules."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [rule for line in lines if (rule := compile_rule(line, path.parent)) is not None]


def compile_rule(line: str, base: Path) -> IgnoreRule | None:
    """Compile one ignore-file line relative to ``base``; blank lines and comments give None."""
    pattern = line.rstrip("\n").strip()
    if not pattern or pattern.startswith("#"):
        return None
    negated = pattern.startswith("!")
    if negated:
        pattern = pattern[1:]
    dirs_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    if not pattern:
        return None
    # gitignore: a slash anywhere but at the end anchors the pattern at the ignore file's folder.
    anchored = "/" in pattern
    body = _glob_to_regex(pattern.lstrip("/"))
    if not anchored:
        body = "(?:.*/)?" + body
    return IgnoreRule(base=base, regex=re.compile(body), negated=negated, dirs_only=dirs_only)


def is_ignored(path: Path, is_dir: bool, rules: Iterable[IgnoreRule]) -> bool:
    ignored = False
    for rule in rules:
        if rule.matches(path, is_dir):
            ignored = not rule.negated
    return ignored


def might_contain_dag(path: Path) -> bool:
    """Safe-mode test: the file mentions ``dag`` and ``tandem`` or ``airflow`` (any case)."""
    try:
        content = path.read_bytes().lower()
    except OSError:
        return False
    return all(word in content for word in _SAFE_MODE_WORDS) and any(
        word in content for word in _SAFE_MODE_FRAMEWORKS
    )


def list_dag_files(folder: Path, *, safe_mode: bool = True) -> list[Path]:
    """Every DAG file under ``folder`` (which may be a single file), sorted; see module doc."""
    folder = Path(folder).expanduser().resolve()
    if folder.is_file():
        return [folder] if folder.suffix == ".py" and (not safe_mode or might_contain_dag(folder)) else []
    found: list[Path] = []
    seen_dirs: set[tuple[int, int]] = set()
    rules_by_dir: dict[Path, list[IgnoreRule]] = {}
    for root, dirs, files in os.walk(folder, followlinks=True):
        here = Path(root)
        stat = here.stat()
        # Symlinks may form loops; visit every real folder once.
        if (stat.st_dev, stat.st_ino) in seen_dirs:
            dirs[:] = []
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        rules = rules_by_dir.get(here, [])
        if IGNORE_FILE in files:
            rules = [*rules, *parse_ignore_file(here / IGNORE_FILE)]
        kept = []
        for name in sorted(dirs):
            if name.startswith(".") or name == "__pycache__" or is_ignored(here / name, True, rules):
                continue
            rules_by_dir[here / name] = rules
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = here / name
            if not name.endswith(".py") or name.startswith(".") or is_ignored(path, False, rules):
                continue
            if safe_mode and not might_contain_dag(path):
                continue
            found.append(path.resolve())
    return sorted(set(found))


def dag_folders(settings: Settings) -> list[Path]:
    """The folders a processor scans: the DAGs folder, plus the example DAGs when enabled."""
    folders = [settings.dags_folder]
    if settings.core.load_examples:
        folders.append(EXAMPLE_DAGS_FOLDER)
    return folders


def list_all_dag_files(settings: Settings, *, safe_mode: bool = True) -> list[Path]:
    """DAG files of every folder in :func:`dag_folders`, without duplicates, sorted."""
    files: set[Path] = set()
    for folder in dag_folders(settings):
        if folder.exists():
            files.update(list_dag_files(folder, safe_mode=safe_mode))
    return sorted(files)
