"""`seeker data import`: the report on success, exit 2 naming the file and column otherwise."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from seeker.cli.app import app
from seeker.core.replay.store import ChainStore
from tests.core.replay.shared_data import chain_file


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_a_folder_of_vendor_files_imports_with_its_report(tmp_path: Path) -> None:
    src = tmp_path / "vendor"
    src.mkdir()
    (src / "SPX_20190703.csv.gz").write_bytes(chain_file("20190703").read_bytes())
    (src / "SPX_20190704.csv.gz").write_bytes(chain_file("20190704").read_bytes())
    (src / "notes.txt").write_text("not a chain")
    result = cli("data", "import", "--format", "cboe-delayed", str(src), str(tmp_path / "store"))
    assert result.exit_code == 0, result.output
    assert "import (cboe-delayed): 2 files" in result.output
    assert "skipped SPX_20190704.csv.gz 2019-07-04" in result.output  # the holiday repeat
    assert "vendor placeholders read as missing implied_vol" in result.output
    assert [d.isoformat() for d in ChainStore(tmp_path / "store").quote_dates()] == ["2019-07-03"]


def test_bad_input_exits_2_naming_the_file_and_the_column(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    wrong = cli("data", "import", "--format", "normalized", str(chain_file("20190703")), store)
    assert wrong.exit_code == 2
    assert "SPX_20190703.csv.gz: column(s) not in the normalized schema: underlying_last" in (
        wrong.output
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "quote_date,underlying,underlying_price,expiration,strike,right,bid,ask\n"
        "2019-07-03,SPX,2995.8,07/19/2019,3000,C,10.1,10.4\n"
    )
    dated = cli("data", "import", "--format", "normalized", str(bad), store)
    assert dated.exit_code == 2 and "bad.csv: column expiration" in dated.output
    missing = cli("data", "import", "--format", "cboe-delayed", str(tmp_path / "nope.csv"), store)
    assert missing.exit_code == 2 and "nope.csv: no such file or folder" in missing.output
    fmt = cli("data", "import", "--format", "orats", str(bad), store)
    assert fmt.exit_code == 2 and "--format 'orats'" in fmt.output
    assert not (tmp_path / "store").exists()
