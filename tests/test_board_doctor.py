"""`juwu doctor`'s board checks against simulated boards on real ptys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from content.config import Config
from display_driver.doctor import checks, ping_board
from display_driver.protocols import BoardGeometry
from display_driver.simhost import PtyHost
from display_driver.simulator import OnbonGraphicSimulator
from tests.test_board_driver import cfg


def test_live_board_missing_port_and_silent_board(tmp_path: Path, config: Config) -> None:
    live = OnbonGraphicSimulator(BoardGeometry(128, 32), 1)
    silent = OnbonGraphicSimulator(BoardGeometry(128, 32), 2)
    silent.faults.drop_replies = True
    hosts = [PtyHost([live], tmp_path / "live"), PtyHost([silent], tmp_path / "silent")]
    boards = (cfg("hall", tmp_path / "live"), cfg("gate", tmp_path / "silent", address=2),
              cfg("yard", tmp_path / "no-such-port"))
    try:
        assert ping_board(boards[0]).reply.ok
        results = {c.name: c for c in checks(dataclasses.replace(config, boards=boards))}
    finally:
        for host in hosts:
            host.close()
    assert results["board font"].ok is True
    assert results["board hall"].ok is True
    assert results["board gate"].ok is False and "cable" in results["board gate"].fix
    assert results["board yard"].ok is False and "no-such-port" in results["board yard"].detail
