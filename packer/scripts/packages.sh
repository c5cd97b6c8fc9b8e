#!/usr/bin/env bash
# packages.sh installs the Debian packages the worker needs and stops the base image from
# patching itself at boot: a spot worker lives for hours, and fixes arrive with a new image.
# TESUJI_SKIP_PACKAGES=1 switches the step off (the package test has no apt to drive).
set -euo pipefail
step=packages
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

if skipped TESUJI_SKIP_PACKAGES; then
	log "skipped (TESUJI_SKIP_PACKAGES=1)"
	exit 0
fi

# cloud-init may still be running apt on a fresh instance; wait so apt's lock is free. Its
# exit status reports on the first boot's user data, which is none of this build's business.
if command -v cloud-init >/dev/null 2>&1; then
	cloud-init status --wait >/dev/null || true
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends ca-certificates curl unzip libzip4 libgomp1

# Unattended upgrades at boot would compete with KataGo for the first minutes of a worker's
# life and may restart services under it.
systemctl disable --now apt-daily.timer apt-daily-upgrade.timer unattended-upgrades.service 2>/dev/null || true
apt-get remove -y -q unattended-upgrades 2>/dev/null || true
