"""Division codes → levels, parents and jurisdiction paths (ARCHITECTURE §3)."""

from __future__ import annotations

import pytest

from models.region import RegionLevel, level_of_code, parent_code_of, path_of_code


@pytest.mark.parametrize(
    ("code", "level", "parent", "path"),
    [
        ("53", RegionLevel.PROVINCE, None, "53"),
        ("5323", RegionLevel.CITY, "53", "53/5323"),
        ("532328", RegionLevel.COUNTY, "5323", "53/5323/532328"),
        ("532328101", RegionLevel.TOWNSHIP, "532328", "53/5323/532328/532328101"),
        ("532328101201", RegionLevel.VILLAGE, "532328101", "53/5323/532328/532328101/532328101201"),
    ],
)
def test_code_determines_level_parent_and_path(code, level, parent, path):
    assert level_of_code(code) == level
    assert parent_code_of(code) == parent
    assert path_of_code(code) == path


@pytest.mark.parametrize("bad", ["", "5", "53232", "53a3", "5323281012011"])
def test_malformed_codes_are_rejected(bad):
    with pytest.raises(ValueError, match="division code"):
        level_of_code(bad)
