#!/usr/bin/env bash
# Precision on real third-party content: scans the images that
# scripts/build-real-images.sh made (nothing planted: every finding is
# noise) and prints, per image, the findings by severity in the default view
# and with --vendor show, and the folded vendor packages (docs/accuracy.md).
#
# usage: scripts/accuracy-real.sh OUTDIR [NAME...]   (LAYERSCAN=bin/layerscan)
# Needs jq.
set -euo pipefail
out=${1:?usage: $0 OUTDIR [NAME...]}
shift
bin=${LAYERSCAN:-bin/layerscan}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$out"/*.oci.tar; do names+=("$(basename "$f" .oci.tar)"); done
fi
counts='.images[0] | [.findings[] | select(.vendor | not) | .severity] | group_by(.) | map("\(length) \(.[0])") | join(", ") | if . == "" then "0" else . end'
printf '| image | reported (default view) | with --vendor show | folded packages |\n|---|---|---|---|\n'
for n in "${names[@]}"; do
	img=oci-archive:$out/$n.oci.tar
	def=$("$bin" -q --exit-code 0 -f json "$img")
	show=$("$bin" -q --exit-code 0 --vendor show -f json "$img")
	printf '| %s | %s | %s | %s |\n' "$n" \
		"$(jq -r "$counts" <<<"$def")" \
		"$(jq -r '.images[0].findings | length' <<<"$show") findings" \
		"$(jq -r '.images[0].vendor // [] | length' <<<"$def")"
done
