"""Regenerate deploy/schemas/keda/*.json from the KEDA CRDs in the kedacore/keda Go module.

uv run python deploy/tools/update_keda_schemas.py  # needs `go` (the Go module proxy)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

KEDA_MODULE = "github.com/kedacore/keda/v2"
KEDA_VERSION = "v2.18.0"
CRDS = ("keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml")
OUT = Path(__file__).resolve().parents[1] / "schemas" / "keda"


def module_dir() -> Path:
    listing = subprocess.run(  # noqa: S603 - fixed arguments
        ["go", "mod", "download", "-json", f"{KEDA_MODULE}@{KEDA_VERSION}"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(listing.stdout)["Dir"])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    bases = module_dir() / "config" / "crd" / "bases"
    for name in CRDS:
        crd = yaml.safe_load((bases / name).read_text())
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            schema["$comment"] = f"{KEDA_MODULE}@{KEDA_VERSION} config/crd/bases/{name}"
            target = OUT / f"{kind.lower()}_{version['name']}.json"
            target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
            print(f"wrote {target}")


if __name__ == "__main__":
    main()
