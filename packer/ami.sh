#!/usr/bin/env bash
# ami.sh builds the GPU worker AMI; `make ami` runs it. It builds the tesuji binary for
# linux/amd64, runs `packer build` on packer/, requires IMDSv2 on the new AMI and prints the
# AMI id, the value `tesuji fleet` takes, as the last line of stdout. Everything else goes
# to stderr.
#
# It needs AWS credentials (the usual environment or shared config) and Packer >= 1.6.6.
# The sha256 values the template requires come as PKR_VAR_katago_sha256 and
# PKR_VAR_network_sha256, a packer/*.auto.pkrvars.hcl file, or -var arguments, which are
# passed on to packer build with any other arguments.
#
# Settings from the environment:
#   TESUJI_MAIN               the main package to build (default ./cmd/tesuji)
#   TESUJI_SSH_CIDR           who may reach the build instance's SSH port (default: this
#                             machine's public address as https://checkip.amazonaws.com
#                             sees it, else anyone, as Packer does by default)
#   PACKER_AMAZON_PLUGIN      the amazon plugin version Packer >= 1.8 installs
#                             (default v1.8.0; older Packers have the builder built in)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

say() {
	printf 'ami: %s\n' "$*" >&2
}

for c in go packer; do
	command -v "$c" >/dev/null 2>&1 || {
		say "error: $c not found on PATH"
		exit 1
	}
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

main_pkg=${TESUJI_MAIN:-./cmd/tesuji}
say "building $main_pkg for linux/amd64"
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o "$work/tesuji" "$main_pkg"
# The helper is built before the long packer run, so a broken helper fails in seconds.
go build -o "$work/imdsv2" ./packer/imdsv2

# Packer 1.10 and later ship no builders; `packer plugins` exists from 1.8 on.
if packer plugins installed >/dev/null 2>&1; then
	say "installing the packer amazon plugin ${PACKER_AMAZON_PLUGIN:-v1.8.0}"
	packer plugins install github.com/hashicorp/amazon "${PACKER_AMAZON_PLUGIN:-v1.8.0}" >&2
fi

cidr=${TESUJI_SSH_CIDR:-}
if [ -z "$cidr" ]; then
	if ip=$(curl --fail --silent --max-time 10 https://checkip.amazonaws.com) &&
		[[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
		cidr=$ip/32
	else
		say "could not learn this machine's public address; the build instance's SSH port is open to any address while it runs"
		cidr=0.0.0.0/0
	fi
fi

say "packer build (about 25 minutes; progress follows)"
# -machine-readable output is kept for the artifact id; its ui lines are shown as text.
status=0
packer build -machine-readable -color=false \
	-var "tesuji_binary=$work/tesuji" \
	-var "ssh_source_cidrs=[\"$cidr\"]" \
	"$@" packer/ |
	tee "$work/packer.log" |
	awk -F, '$3 == "ui" { m = $5; gsub(/%!\(PACKER_COMMA\)/, ",", m); gsub(/\\n/, "\n", m); print m; fflush() }' >&2 ||
	status=$?
if [ "$status" -ne 0 ]; then
	say "error: packer build failed (status $status)"
	exit "$status"
fi

# The artifact id is REGION:AMI.
artifact=$(awk -F, '$3 == "artifact" && $5 == "id" { print $6 }' "$work/packer.log" | tail -n 1)
region=${artifact%%:*}
ami=${artifact#*:}
if [[ ! $ami =~ ^ami-[0-9a-f]+$ ]] || [ -z "$region" ] || [ "$region" = "$artifact" ]; then
	say "error: no AMI id in packer's output (artifact '$artifact')"
	exit 1
fi

say "requiring IMDSv2 on $ami in $region"
"$work/imdsv2" -region "$region" "$ami"

say "built $ami in $region"
echo "$ami"
