#!/bin/sh
# Checks that assay test, the Benthos harness (bench/peer) and the Python
# ground truth (bench/truth.py) count every rule of orders-20 alike: on
# EVENTS generated orders all three, on testdata/bench/orders-20-edge.ndjson
# assay and the truth (the harness's Bloblang is null-safe where assay is
# not: see bench/README.md).
#
#   sh bench/verify.sh [EVENTS]     (from the repository root)
set -eu
events=${1:-200000}
go=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
contract=testdata/bench/orders-20.yaml
edge=testdata/bench/orders-20-edge.ndjson

"$go" build -o "$tmp/assay" ./cmd/assay
"$go" run ./bench -mode gen -events "$events" > "$tmp/orders.ndjson"
assay_test() { # exit 1 means rules were violated, as they are here
	"$tmp/assay" test -c "$contract" --topic checkout.orders "$1" --output json > "$2" || [ $? -eq 1 ]
}
assay_test "$tmp/orders.ndjson" "$tmp/assay.json"
assay_test "$edge" "$tmp/assay-edge.json"
reports="$tmp/assay.json"
if (cd bench/peer && "$go" build -o "$tmp/peer" .); then
	"$tmp/peer" -file "$tmp/orders.ndjson" -json > "$tmp/peer.json"
	reports="$reports $tmp/peer.json"
else
	echo "verify: the Benthos harness does not build; checking assay alone" >&2
fi
echo "$events generated orders:"
# shellcheck disable=SC2086
python3 bench/truth.py "$tmp/orders.ndjson" --compare $reports
echo "$edge:"
python3 bench/truth.py "$edge" --compare "$tmp/assay-edge.json"
