"""Register and serve the deployments: the nightly schedule and an operator's one-region rerun.

PREFECT_API_URL=http://127.0.0.1:4200/api python -m autogrant.flows.serve --data DROP --out OUT_ROOT
"""

import argparse

from prefect import serve

from autogrant.flows.nightly import nightly_flow, policy_flow


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="the folder where each night's drop lands")
    ap.add_argument("--out", required=True, help="the output root (OUT_ROOT/<policy>/ per policy)")
    ap.add_argument("--cron", default="30 1 * * *", help="when the nightly run starts (Asia/Shanghai)")
    a = ap.parse_args()
    nightly = nightly_flow.to_deployment(
        name="autogrant-nightly", cron=a.cron, timezone="Asia/Shanghai", parameters={"data": a.data, "out_root": a.out}
    )
    region = policy_flow.to_deployment(name="autogrant-region", parameters={"data": a.data, "out": a.out})
    serve(nightly, region)


if __name__ == "__main__":
    main()
