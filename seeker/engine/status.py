"""The process status that ``seeker status`` reads: ``_seeker/status.json``, replaced atomically."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from seeker.core.journal import SYSTEM_FOLDER, to_jsonable
from seeker.engine.manager import StrategyManager
from seeker.engine.services import Services

STATUS_FILE = Path(SYSTEM_FOLDER) / "status.json"


def write_status(services: Services, manager: StrategyManager, running: bool, note: str) -> None:
    """Write the process status that `seeker status` reads (atomically)."""
    path = services.log_root / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    snap = services.risk_guard.exposure()
    data = {
        "pid": os.getpid(),
        "running": running,
        "note": note,
        "updated_wall": datetime.now().astimezone().isoformat(),
        "clock": services.clock.now().isoformat(),
        "simulated": services.clock.simulated,
        "broker": services.broker.kind,
        "connection": services.broker.connection_state().value,
        "market_data": services.broker.market_data_type(),
        "strategies": {
            name: {
                "state": s.state.value,
                "error": s.error,
                "open_positions": s.open_positions(),
            }
            for name, s in manager.strategies.items()
        },
        "risk": {
            "caps": services.risk_guard.caps.as_dict(),
            "committed": snap.total,
            "by_sector": snap.by_sector,
            "by_cluster": snap.by_cluster,
            "by_underlying": snap.by_underlying,
        },
        "account": services.account.status(),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(to_jsonable(data), indent=1))
    os.replace(tmp, path)
