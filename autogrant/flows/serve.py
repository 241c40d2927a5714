"""Register and serve the deployments: the nightly schedule and an operator's rerun of regions.

PREFECT_API_URL=http://127.0.0.1:4200/api python -m autogrant.flows.serve --data DROP --out OUT_ROOT

    autogrant-nightly/autogrant-nightly   nightly_flow, cron (default 30 1 * * *) in Asia/Shanghai
    autogrant-rerun/autogrant-region      rerun_flow: policy_id and regions (and today, as_of) given by the operator

Both write a policy to OUT_ROOT/<policy>/ (home.policy_out): one OUT, one ledger per policy. One flow run at a
time (limit 1): two runs of a policy must never write its ledger at once, so a rerun waits for the night.
"""

import argparse
from pathlib import Path

from prefect import serve
from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron

from autogrant.flows.nightly import nightly_flow, rerun_flow
from autogrant.transforms.home import TIME_ZONE


def deployments(data: str, out_root: str, cron: str = "30 1 * * *") -> list:
    """The two deployments, found by module path (python -m prefect.engine imports autogrant.flows.nightly)."""
    where = {"data": data, "out_root": out_root}
    return [
        nightly_flow.to_deployment(
            name="autogrant-nightly",
            schedule=Cron(cron, timezone=TIME_ZONE),
            parameters=where,
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
        rerun_flow.to_deployment(name="autogrant-region", parameters=where, entrypoint_type=EntrypointType.MODULE_PATH),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the folder where each night's drop lands")
    ap.add_argument("--out", required=True, help="the output root (OUT_ROOT/<policy>/ per policy)")
    ap.add_argument("--cron", default="30 1 * * *", help=f"when the nightly run starts ({TIME_ZONE})")
    a = ap.parse_args()
    serve(*deployments(str(Path(a.data).resolve()), str(Path(a.out).resolve()), a.cron), limit=1)


if __name__ == "__main__":
    main()
