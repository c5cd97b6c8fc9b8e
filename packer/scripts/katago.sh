#!/usr/bin/env bash
# katago.sh installs a KataGo release build and the network, both checked against the
# sha256 the build was given. KataGo's Linux releases are AppImages; the image carries the
# extracted tree so that no FUSE mount happens each time a worker starts KataGo.
set -euo pipefail
step=katago
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

require_env TESUJI_KATAGO_URL TESUJI_KATAGO_SHA256 TESUJI_NETWORK_URL TESUJI_NETWORK_SHA256
require_cmd curl sha256sum unzip od

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dest=$root$katago_dir
install -d -m 0755 "$dest"

fetch "$TESUJI_KATAGO_URL" "$TESUJI_KATAGO_SHA256" "$work/katago.zip"
unzip -q "$work/katago.zip" -d "$work/zip"
bin=$(find "$work/zip" -type f -name katago -print -quit)
[ -n "$bin" ] || die "no file named katago in $TESUJI_KATAGO_URL"
chmod 0755 "$bin"

# An AppImage (type 2) carries the bytes "AI" 0x02 at offset 8 of its ELF header.
rm -rf "$dest/appimage" "$dest/katago"
if [ "$(od -An -tx1 -j8 -N3 "$bin" | tr -d ' \n')" = 414902 ]; then
	log "extracting the AppImage"
	(cd "$work" && "$bin" --appimage-extract >/dev/null)
	[ -x "$work/squashfs-root/AppRun" ] || die "the AppImage has no AppRun"
	mv "$work/squashfs-root" "$dest/appimage"
	# A wrapper rather than a symlink: an AppRun that finds its files through $0 must be
	# run by its own path. It execs, so the worker's signals reach KataGo itself.
	cat >"$dest/katago" <<'WRAPPER'
#!/bin/sh
# KataGo from its extracted AppImage (see appimage/).
exec "$(dirname "$(readlink -f "$0")")/appimage/AppRun" "$@"
WRAPPER
	chmod 0755 "$dest/katago"
else
	install -m 0755 "$bin" "$dest/katago"
fi

# The release's other files (README, example configs, licence) stay beside the binary.
install -d -m 0755 "$dest/release"
find "$work/zip" -type f ! -name katago -exec install -m 0644 {} "$dest/release/" \;

# A KataGo that cannot load its libraries (CUDA, TensorRT) fails here, before the network
# download and the warm-up.
"$dest/katago" version >&2 || die "$katago_bin does not run"

fetch "$TESUJI_NETWORK_URL" "$TESUJI_NETWORK_SHA256" "$root$katago_model"
chmod 0644 "$root$katago_model"

cat >"$dest/SOURCES" <<SOURCES
# Where this image's KataGo and network came from, as checked at build time.
katago_url=$TESUJI_KATAGO_URL
katago_sha256=$TESUJI_KATAGO_SHA256
network_url=$TESUJI_NETWORK_URL
network_sha256=$TESUJI_NETWORK_SHA256
SOURCES
chmod 0644 "$dest/SOURCES"
