"""Learners through nginx over two learner processes and one PostgreSQL database."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from common import stop_server
from nginx_cluster import Cluster, load
from sqlalchemy import create_engine, func, select

from somequiz.records.tables import AnswerRow, AttemptRow, CompletionRow, LearnerRow


def _rows(db_url: str, employee_number: str) -> tuple[list[tuple[str, int, str]], int, int]:
    """A learner's answers (attempt, try, step), attempts and completions."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            learner = select(LearnerRow.id).where(LearnerRow.employee_number == employee_number)
            answers = connection.execute(
                select(AnswerRow.attempt_id, AnswerRow.scenario_try, AnswerRow.step_id)
                .join(AttemptRow, AttemptRow.id == AnswerRow.attempt_id)
                .where(AttemptRow.learner_id.in_(learner))
                .order_by(AnswerRow.seq)
            ).all()
            attempts = connection.scalar(
                select(func.count()).where(AttemptRow.learner_id.in_(learner))
            )
            completions = connection.scalar(
                select(func.count()).where(CompletionRow.learner_id.in_(learner))
            )
    finally:
        engine.dispose()
    return (
        [(attempt, tried, step) for attempt, tried, step in answers],
        attempts or 0,
        completions or 0,
    )


def test_learners_through_nginx_are_sticky_spread_and_recorded_once(cluster: Cluster) -> None:
    routes = cluster.route_cookies(per_server=3)
    ports = [s.port for s in cluster.servers]
    cookies = [{"somequiz_route": r} for port in ports for r in routes[port]]

    report = load.run_load(
        cluster.url, len(cookies), db_url=cluster.db_url, cookies=cookies, timeout_s=90
    )

    assert report.errors == []
    assert report.completed == 6
    counts = load.recorded(cluster.db_url, report.run_id)
    assert sorted(counts) == sorted(r.employee_number for r in report.results)
    assert all(c["completions"] == 1 for c in counts.values()), counts
    assert report.answers_recorded == report.answers_sent > 0
    # Every page, websocket and beacon of a learner reached the process its cookie names.
    started = {s.port: cluster.kernels(s) for s in cluster.servers}
    for n, result in enumerate(report.results):
        port = ports[n // 3]
        assert set(result.kernel_ids) <= started[port], (n, port)
    assert all(len(ids) >= 3 for ids in started.values())


def test_kill_9_of_a_learner_process_loses_nothing(cluster: Cluster) -> None:
    first, second = cluster.servers
    route = cluster.route_cookies(per_server=1)[first.port][0]
    learner = load.SimulatedLearner(
        cluster.url, 0, "KILL9", timeout_s=60, cookies={"somequiz_route": route}
    )
    learner.open_page()
    learner.sign_in()
    learner.play(max_answers=2)
    number = learner.result.employee_number
    before, _, _ = _rows(cluster.db_url, number)
    assert len(before) == 2
    assert learner.kernel_id in cluster.kernels(first)

    stop_server(first.process, hard=True)
    # The tab notices the dead connection; the learner reloads and signs in again.
    learner.close_socket()
    learner.open_page()
    assert learner.kernel_id in cluster.kernels(second)
    learner.sign_in()
    learner.play()
    learner.close_page()

    assert learner.result.completed, learner.result.errors
    after, attempts, completions = _rows(cluster.db_url, number)
    assert after[:2] == before
    assert len(after) == learner.result.answers == len(set(after))
    assert (attempts, completions) == (1, 1)


def _small_script() -> str:
    """A script of Voilà's page under 1 KiB: the learner process sends it uncompressed."""
    from voila.paths import collect_static_paths

    for folder in collect_static_paths(["voila", "nbconvert"], "base"):
        for path in sorted(Path(folder).glob("*.voila.js")):
            if 256 <= path.stat().st_size < 1024:
                return path.name
    raise AssertionError("no small script among Voilà's static files")


def test_text_goes_compressed_and_versioned_files_are_kept(cluster: Cluster) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    direct = cluster.servers[0].url
    # The course page and Voilà's scripts come gzipped from the learner process, through nginx.
    page = requests.get(f"{cluster.url}/voila/render/kurssi.ipynb", headers=gzip, timeout=60)
    assert page.headers.get("Content-Encoding") == "gzip"
    prefix = re.search(r'"fullStaticUrl": "([^"]+)"', page.text)
    assert prefix is not None
    script = requests.get(f"{cluster.url}{prefix[1]}/voila.js", headers=gzip, timeout=10)
    assert script.headers.get("Content-Encoding") == "gzip"
    assert "immutable" in script.headers.get("Cache-Control", "")
    # nginx's own gzip (snippets/somequiz-compression.conf) for what comes uncompressed.
    small = f"/voila/static/{_small_script()}"
    assert (
        "Content-Encoding" not in requests.get(f"{direct}{small}", headers=gzip, timeout=10).headers
    )
    through = requests.get(f"{cluster.url}{small}", headers=gzip, timeout=10)
    assert through.status_code == 200 and through.headers.get("Content-Encoding") == "gzip"
