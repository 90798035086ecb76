"""PostGIS ``geography`` as the exact peer: a throwaway cluster on loopback, in a temporary
directory, started and stopped by the benchmark.

The built-up polygons are loaded with COPY (hex EWKB) and indexed with GiST; a random
subsample of the enterprises (sized to a time budget after a pilot) is loaded the same way and
measured with two concurrent sessions (one per core), each on half of the subsample:

- distance: ``min(ST_Distance(p, b))`` over ``ST_DWithin(p, b, 50 km)`` (spheroid, the default);
- rule: ``EXISTS (... ST_DWithin(p, b, 10 km))`` (the near-city decision alone).

Times per point are extrapolated linearly to every point.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from benchmarks.oracle import nearest_by_oracle

DISTANCE_SQL = (
    "COPY (SELECT p.id, (SELECT min(ST_Distance(p.geog, b.geog)) FROM builtup b "
    "WHERE ST_DWithin(p.geog, b.geog, 50000)) FROM pts p WHERE p.id % 2 = {part} "
    "ORDER BY p.id) TO STDOUT"
)
CHECKED = 5  # worst disagreements with the engine checked by the oracle
RULE_SQL = (
    "SELECT count(*) FROM pts p WHERE p.id % 2 = {part} AND EXISTS "
    "(SELECT 1 FROM builtup b WHERE ST_DWithin(p.geog, b.geog, 10000))"
)


def find_postgis() -> tuple[Path | None, str]:
    """The newest PostgreSQL bin directory whose share has PostGIS, or None and why not."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not found:
        return None, "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)"
    for initdb in found:
        bindir = Path(initdb).parent
        version = bindir.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return bindir, f"PostgreSQL {version}"
    return None, f"PostGIS is not installed for PostgreSQL at {found[0]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A temporary PostgreSQL cluster on 127.0.0.1, owned by ``postgres`` when run as root."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="bench-postgis-"))
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.dir / "data"
        self.started = False

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True)

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.dir} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c shared_buffers=512MB -c work_mem=64MB "
            "-c max_wal_size=4GB"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        self.started = True

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            if self.started:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql_args(self) -> list[str]:
        return [
            str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAtX",
        ]  # fmt: skip

    def sql(self, command: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [*self.psql_args(), "-c", command], input=stdin, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def parallel(self, template: str, parts: int = 2) -> list[str]:
        """Run ``template`` with ``{part}`` = 0..parts-1 in concurrent sessions."""
        procs = [
            subprocess.Popen(
                [*self.psql_args(), "-c", template.format(part=part)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for part in range(parts)
        ]
        outputs = []
        for proc in procs:
            out, err = proc.communicate()
            if proc.returncode:
                raise RuntimeError(f"psql failed: {err.strip()}")
            outputs.append(out)
        return outputs

    def version(self) -> str:
        return self.sql("SELECT postgis_full_version()").split(" ")[1].strip('"')


def _copy_rows(ids: np.ndarray, geoms: np.ndarray) -> str:
    wkb = shapely.to_wkb(geoms, hex=True, include_srid=False)
    buffer = io.StringIO()
    for i, g in zip(ids, wkb, strict=True):
        buffer.write(f"{i}\t{g}\n")
    return buffer.getvalue()


def measure(cluster: Cluster, case, engine_distance: np.ndarray | None, budget_s: float) -> dict:
    """Load the case's polygons and a subsample of its points; time both queries."""
    cluster.sql(
        "CREATE EXTENSION IF NOT EXISTS postgis; DROP TABLE IF EXISTS builtup, pts; "
        "CREATE TABLE builtup (id int PRIMARY KEY, geog geography(Polygon, 4326)); "
        "CREATE TABLE pts (id int PRIMARY KEY, geog geography(Point, 4326));"
    )
    start = time.perf_counter()
    polygons = case.builtup.geometry.values
    cluster.sql(
        "COPY builtup FROM STDIN", _copy_rows(np.arange(len(polygons)), np.asarray(polygons))
    )
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    cluster.sql("CREATE INDEX builtup_gix ON builtup USING gist (geog); ANALYZE builtup;")
    index_s = time.perf_counter() - start

    order = np.random.default_rng(11).permutation(case.n_points)

    def load_points(first: int, last: int) -> None:
        ids = order[first:last]
        cluster.sql(
            "COPY pts FROM STDIN",
            _copy_rows(np.arange(first, last), shapely.points(case.lon[ids], case.lat[ids])),
        )
        cluster.sql("ANALYZE pts")

    pilot = min(200, case.n_points)
    load_points(0, pilot)
    start = time.perf_counter()
    cluster.parallel(DISTANCE_SQL)
    per_point = (time.perf_counter() - start) / pilot
    n = int(np.clip(budget_s / max(per_point, 1e-6), pilot, min(case.n_points, 50_000)))
    if n > pilot:
        load_points(pilot, n)

    start = time.perf_counter()
    outputs = cluster.parallel(DISTANCE_SQL)
    distance_s = time.perf_counter() - start
    start = time.perf_counter()
    near = sum(int(out.strip()) for out in cluster.parallel(RULE_SQL))
    rule_s = time.perf_counter() - start

    rows = [line.split("\t") for out in outputs for line in out.splitlines() if line]
    got = np.full(n, np.nan)
    for i, d in rows:
        got[int(i)] = float(d) if d not in ("", "\\N") else np.nan
    result = {
        "seconds": distance_s * case.n_points / n,
        "rule_seconds": rule_s * case.n_points / n,
        "measured_points": n,
        "measured_seconds": distance_s,
        "measured_rule_seconds": rule_s,
        "load_polygons_s": load_s,
        "index_s": index_s,
        "near_share": near / n,
        "extrapolated": True,
    }
    if engine_distance is not None:
        ours = engine_distance[order[:n]]
        both = np.isfinite(got) & (ours <= 50_000)
        diff = np.abs(got[both] - ours[both])
        result["max_diff_vs_engine_m"] = float(diff.max()) if diff.size else float("nan")
        result["p99_diff_vs_engine_m"] = float(np.percentile(diff, 99)) if diff.size else 0.0
        result["compared"] = int(both.sum())
        # the worst disagreements, settled by the independent oracle
        worst = np.flatnonzero(both)[np.argsort(-diff)[:CHECKED]]
        polygons = np.asarray(case.builtup.geometry.values)
        result["worst"] = [
            {
                "lon": float(case.lon[order[k]]),
                "lat": float(case.lat[order[k]]),
                "postgis_m": float(got[k]),
                "engine_m": float(ours[k]),
                "oracle_m": nearest_by_oracle(case.lon[order[k]], case.lat[order[k]], polygons),
            }
            for k in worst
        ]
    return result
