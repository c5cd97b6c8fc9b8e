#!/usr/bin/env bash
# cleanup.sh leaves the image as a new worker should find it: no apt caches, and no machine
# id, so that each instance gets its own at first boot.
set -euo pipefail
step=cleanup
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

if ! skipped TESUJI_SKIP_PACKAGES; then
	apt-get clean
	rm -rf /var/lib/apt/lists/*
fi

if [ -f "$root/etc/machine-id" ]; then
	: >"$root/etc/machine-id"
fi
