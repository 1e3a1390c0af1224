"""Write every built-in preset to configs/<kind>s/<name>.toml (tests check they match)."""

from __future__ import annotations

from pathlib import Path

from fes_sim.cli.config_cmd import preset_toml
from fes_sim.config.presets import KIND_MODULES, preset_names

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    for kind in KIND_MODULES:
        folder = ROOT / "configs" / f"{kind}s"
        folder.mkdir(parents=True, exist_ok=True)
        for name in preset_names(kind):
            (folder / f"{name}.toml").write_text(preset_toml(kind, name), encoding="utf-8")
            print(f"wrote {folder / (name + '.toml')}")


if __name__ == "__main__":
    main()
