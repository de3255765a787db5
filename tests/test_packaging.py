"""The wheel a user installs: shipped configs by name, py.typed, LICENSE, --version; the wheel on
its own (no source tree) runs the quick start and a named config from an unrelated directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vlanet import __version__
from vlanet.config import load_config, shipped_configs, shipped_presets

REPO = Path(__file__).resolve().parents[1]


def test_configs_load_by_name_and_by_path():
    names = shipped_configs()
    assert {"charades_sta_c3d", "charades_cd_sim", "didemo_vgg"} <= set(names)
    for name, path in names.items():
        assert load_config(name) == load_config(path) == load_config(f"{name}.yaml")
    assert (REPO / "configs" / "charades_sta_c3d.yaml").resolve() == names["charades_sta_c3d"].resolve()


def test_version_and_config_show():
    r = subprocess.run([sys.executable, "-m", "vlanet", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"vlanet {__version__}"
    r = subprocess.run([sys.executable, "-m", "vlanet", "config", "show", "charades_sta_c3d", "train.epochs=3"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "epochs: 3" in r.stdout and "hidden_dim: 256" in r.stdout
    r = subprocess.run([sys.executable, "-m", "vlanet", "config", "show", "charades_sta_c3x"], capture_output=True, text=True)
    assert r.returncode == 2 and "did you mean 'charades_sta_c3d'" in r.stderr


@pytest.mark.slow
def test_wheel_ships_configs_types_and_licence(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("vlanet-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for cfg in shipped_configs():
        assert f"vlanet/configs/{cfg}.yaml" in names
    for preset in shipped_presets():
        assert f"vlanet/configs/presets/{preset}.yaml" in names
    assert "vlanet/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: torch>=2.1" in meta and "<=2.14" not in meta
    # the wheel, installed on its own (no editable source tree), from an unrelated directory:
    # the quick start (tiny) and a shipped config by name
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": str(target)}

    def run(*args):
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=600)

    where = run("-c", "import vlanet; print(vlanet.__file__)")
    assert where.returncode == 0 and where.stdout.strip().startswith(str(target)), where.stdout + where.stderr
    r = run("-m", "vlanet", "train", "--run-dir", "run", "--quiet", "data.synthetic_train_videos=30",
            "data.synthetic_test_videos=8", "data.synthetic_dim=16", "model.hidden_dim=16", "train.epochs=1")
    assert r.returncode == 0 and "language gain" in r.stdout, r.stderr
    r = run("-m", "vlanet", "config", "show", "charades_sta_c3d")
    assert r.returncode == 0 and "charades-sta/c3d_features.h5" in r.stdout, r.stderr
