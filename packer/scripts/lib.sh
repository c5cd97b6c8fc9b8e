# shellcheck shell=bash
# lib.sh holds what the provisioning steps share: where things go in the image, logging,
# checked downloads and running as the worker user. Each step sources it; it runs nothing
# by itself.
#
# Every path the steps write is prefixed with ${TESUJI_ROOT:-}, so a test can install the
# whole image into a throwaway directory. Paths written into files (the unit, defaults.env,
# the KataGo config) never carry that prefix: they are the paths of the running image.

# The install prefix (empty on a real build) and the layout of the image, shared with the
# fleet: see packer/README.md.
# shellcheck disable=SC2034 # used by the steps that source this file
{
	root="${TESUJI_ROOT:-}"
	worker_user=tesuji
	worker_home=/var/lib/tesuji
	katago_dir=/opt/katago
	katago_bin=/opt/katago/katago
	katago_model=/opt/katago/model.bin.gz
	# katago_home is KataGo's homeDataDir: the TensorRT timing cache and OpenCL tuning live
	# here, so the warm-up run at build time leaves them in the image.
	katago_home=/var/lib/tesuji/katago
	etc_dir=/etc/tesuji
	katago_config=/etc/tesuji/katago.cfg
	libexec_dir=/usr/local/lib/tesuji
	tesuji_bin=/usr/local/bin/tesuji
	unit_name=tesuji-worker.service
}

log() {
	printf 'tesuji-image: %s: %s\n' "${step:-provision}" "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

# skipped NAME is true when the environment variable NAME is 1: the test switches off the
# steps that need a GPU, apt or a real user database this way.
skipped() {
	[ "${!1:-0}" = 1 ]
}

require_env() {
	local name
	for name in "$@"; do
		[ -n "${!name:-}" ] || die "$name must be set"
	done
}

require_cmd() {
	local name
	for name in "$@"; do
		command -v "$name" >/dev/null 2>&1 || die "command $name not found"
	done
}

# fetch URL SHA256 DEST downloads URL to DEST and fails unless the file's sha256 is SHA256.
# The file appears at DEST only once checked, so a failed or tampered download never leaves
# anything a later step could pick up.
fetch() {
	local url=$1 want=$2 dest=$3 got
	case $want in
	*[!0-9a-f]* | "") die "sha256 for $url must be 64 lower-case hex digits, got '$want'" ;;
	esac
	[ "${#want}" -eq 64 ] || die "sha256 for $url must be 64 lower-case hex digits, got '$want'"
	log "downloading $url"
	if ! curl --fail --silent --show-error --location --retry 5 --retry-delay 3 \
		--connect-timeout 30 --output "$dest.part" "$url"; then
		rm -f "$dest.part"
		die "download of $url failed"
	fi
	got=$(sha256sum "$dest.part" | cut -d' ' -f1)
	if [ "$got" != "$want" ]; then
		rm -f "$dest.part"
		die "sha256 mismatch for $url: want $want, got $got"
	fi
	mv -f "$dest.part" "$dest"
}

# as_worker runs a command as the unprivileged worker user, so whatever it writes (the
# TensorRT cache) belongs to the user the service runs as.
as_worker() {
	if skipped TESUJI_SKIP_USER; then
		"$@"
	else
		runuser -u "$worker_user" -- "$@"
	fi
}

# config_value KEY FILE prints the value of KEY in a KataGo config file.
config_value() {
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([^#[:space:]]*\).*/\1/p" "$2" | tail -n 1
}
