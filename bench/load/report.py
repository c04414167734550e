"""Print locust's CSV results (bench/load/out/<scenario>_stats.csv) as one Markdown table."""

import csv
import sys
from pathlib import Path

SCENARIOS = ("list", "retrieve", "create", "usage", "gateway", "direct")


def main(folder: Path) -> None:
    print("| scenario | request | requests | failures | req/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for scenario in SCENARIOS:
        path = folder / f"{scenario}_stats.csv"
        if not path.exists():
            continue
        for row in csv.DictReader(path.open()):
            if row["Name"] == "Aggregated" or row["Name"].startswith("/v1/"):  # on_start's warm-up reads
                continue
            print(
                f"| {scenario} | {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
                f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['99%']} | "
                f"{float(row['Max Response Time']):.0f} |"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/load/out"))
