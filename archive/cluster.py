"""A throwaway PostgreSQL cluster in a temporary folder, on 127.0.0.1: for tests and benches."""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterError(RuntimeError):
    """No PostgreSQL server to start, or one that would not start, with the reason."""


def server_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres: the `pgserver` wheel's (a test extra),
    else the system's (pg_config, then Debian's /usr/lib/postgresql/N/bin, newest first)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "pginstall" / "bin"
            if (candidate / "initdb").is_file():
                return candidate
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidate = Path(found.stdout.strip())
        if found.returncode == 0 and (candidate / "initdb").is_file():
            return candidate
    numbered = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    if numbered:
        return Path(numbered[-1]).parent
    raise ClusterError(
        "no PostgreSQL server found: install the test extras (pgserver) or the system's postgresql"
    )


def _major_version(initdb: str) -> int:
    name = Path(initdb).parent.parent.name
    return int(name) if name.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayCluster:
    """initdb into a temporary folder, start on 127.0.0.1 with a free port, stop and delete.

    PostgreSQL refuses to run as root: as root the cluster runs as `nobody`, and the server's
    files are copied where that user can read them if the installed ones are not."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        # Tests do not need a crash-safe disk; a bench passes its own settings.
        self.settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        self.settings.update(settings or {})
        self.folder: Path | None = None
        self.port = 0
        self._user: str | None = None
        self._bin = server_binaries()

    @property
    def url(self) -> str:
        return f"postgresql://vigile@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(command), capture_output=True, text=True, user=self._user, timeout=120
        )

    def start(self) -> str:
        self.folder = Path(tempfile.mkdtemp(prefix="vigile-pg-"))
        if os.geteuid() == 0:
            self._user = "nobody"
            shutil.chown(self.folder, self._user)
            if not self._can_run(self._bin / "initdb"):
                self._bin = self._copy_install()
        data = self.folder / "data"
        made = self._run(
            str(self._bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "vigile",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if made.returncode != 0:
            raise ClusterError(f"initdb failed: {made.stderr.strip() or made.stdout.strip()}")
        self.port = _free_port()
        self.resume()
        return self.url

    def resume(self) -> None:
        """Start the server (again, on the same port after `halt`)."""
        assert self.folder is not None
        options = [f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"]
        options += [f"-c {key}={value}" for key, value in self.settings.items()]
        started = self._run(
            str(self._bin / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            " ".join(options),
            "-w",
            "-t",
            "60",
            "start",
        )
        if started.returncode != 0:
            log = (self.folder / "server.log").read_text(errors="replace")[-2000:]
            raise ClusterError(f"PostgreSQL would not start: {started.stderr.strip()}\n{log}")

    def halt(self) -> None:
        """Stop the server, keep its data: a server that went down, for a test."""
        if self.folder is not None:
            data = str(self.folder / "data")
            self._run(str(self._bin / "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")

    def _can_run(self, program: Path) -> bool:
        try:
            return self._run(str(program), "--version").returncode == 0
        except OSError:  # a folder on the way that `nobody` may not enter
            return False

    def _copy_install(self) -> Path:
        """The server's bin/, lib/ and share/ where `nobody` can read them, laid out as they
        were: a wheel's programs find their libraries beside the package (`pgserver.libs`)."""
        assert self.folder is not None
        root = self.folder / "install"
        home = self._bin.parent  # pginstall/ (or the system's postgresql/N/)
        install = root / home.parent.name / home.name
        for part in ("bin", "lib", "share"):
            if (home / part).is_dir():
                shutil.copytree(home / part, install / part, symlinks=True)
        libs = home.parent.parent / f"{home.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, root / libs.name, symlinks=True)
        for path in [root, *root.rglob("*")]:
            path.chmod(path.stat().st_mode | (0o555 if path.is_dir() else 0o444))
        return install / "bin"

    def stop(self) -> None:
        if self.folder is None:
            return
        if (self.folder / "data" / "postmaster.pid").exists():
            self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
