#!/usr/bin/env bash
# tesuji.sh installs the tesuji binary, the settings every worker starts from and the
# systemd unit, and enables the unit so that it starts at boot.
set -euo pipefail
step=tesuji
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

build=${TESUJI_BUILD_DIR:-/var/tmp/tesuji-build}
here=$(cd "$(dirname "$0")" && pwd)
require_cmd systemctl

[ -s "$build/tesuji" ] || die "$build/tesuji is missing or empty: upload the binary built by make"
[ -s "$build/$unit_name" ] || die "$build/$unit_name is missing or empty"

install -D -m 0755 "$build/tesuji" "$root$tesuji_bin"
install -D -m 0755 "$here/katago-config.sh" "$root$libexec_dir/katago-config.sh"
install -D -m 0644 "$build/$unit_name" "$root/etc/systemd/system/$unit_name"

# defaults.env comes first in the unit and the launch template's /etc/tesuji/worker.env
# may override any of these; values from the SSM parameter only fill in what neither sets.
install -d -m 0755 "$root$etc_dir"
# The worker fits KataGo's threads and batch size to the GPU it finds and measures them
# once per GPU model (the warm-up did it for the build instance's); $katago_config, tuned
# per instance type, is an override a launch template may name in worker.env
# (TESUJI_KATAGO_CONFIG=$katago_config).
cat >"$root$etc_dir/defaults.env" <<DEFAULTS
# Written when the image was built. /etc/tesuji/worker.env, written by the launch
# template's user data, is read after this file and wins.
TESUJI_KATAGO=$katago_bin
TESUJI_MODEL=$katago_model
TESUJI_KATAGO_HOME=$katago_home
DEFAULTS
chmod 0644 "$root$etc_dir/defaults.env"

# --root works on a directory without a running systemd, which is all an image build needs:
# the unit is enabled for the next boot, never started here.
systemctl --root="${root:-/}" enable "$unit_name"
