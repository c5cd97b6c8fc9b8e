#!/usr/bin/env bash
# user.sh creates the unprivileged user the worker runs as and the directories it owns.
# TESUJI_SKIP_USER=1 leaves the user database alone (the package test is not root of a
# real system); the directories are made either way.
set -euo pipefail
step=user
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

if skipped TESUJI_SKIP_USER; then
	log "user creation skipped (TESUJI_SKIP_USER=1)"
else
	if ! getent passwd "$worker_user" >/dev/null; then
		useradd --system --user-group --home-dir "$worker_home" --no-create-home \
			--shell /usr/sbin/nologin --comment "tesuji worker" "$worker_user"
	fi
fi

install -d -m 0755 "$root$etc_dir"
install -d -m 0750 "$root$worker_home" "$root$katago_home" "$root$katago_home/logs"
if ! skipped TESUJI_SKIP_USER; then
	chown -R "$worker_user:$worker_user" "$root$worker_home"
fi
