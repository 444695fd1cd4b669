"""Running nginx from deploy/nginx.conf as a foreground process with its own paths under tmp."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()),
                                         None)


def render_config(prefix: Path, listen: int, upstream_ports: list[int]) -> Path:
    """deploy/nginx.conf with this test's ports and every path moved under ``prefix``."""
    text = DEPLOY_CONF.read_text()
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in upstream_ports)
    text, count = re.subn(r"(?m)^\s*server 127\.0\.0\.1:\d+[^\n]*\n", "", text)
    assert count, "deploy/nginx.conf has no upstream server lines to replace"
    text = text.replace("upstream tandem_api {\n", "upstream tandem_api {\n" + servers, 1)
    text = re.sub(r"listen \d+;", f"listen 127.0.0.1:{listen};", text)
    text = re.sub(r"(?m)^(\s*(?:pid|error_log|access_log|\w+_temp_path))\s+/\S+?([^/\s;]+)(\s|;)",
                  lambda m: f"{m.group(1)} {prefix / m.group(2)}{m.group(3)}", text)
    if os.geteuid() == 0:
        # Workers would otherwise drop to "nobody", who cannot enter pytest's private tmp folders.
        text = "user root;\n" + text
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


def start_nginx(binary: str, prefix: Path, conf: Path) -> subprocess.Popen[bytes]:
    with (prefix / "nginx.out").open("wb") as out:
        return subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
