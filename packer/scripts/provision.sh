#!/usr/bin/env bash
# provision.sh builds the worker image's contents, one step after another. Packer runs it as
# root on the build instance with the settings in the environment (see worker.pkr.hcl); the
# package test runs the same script into a throwaway root with TESUJI_ROOT set, downloads
# pointed at a local server and the GPU, apt and user steps switched off.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
steps=(packages gpu user katago tesuji katago-config warmup cleanup)

for s in "${steps[@]}"; do
	start=$SECONDS
	bash "$here/$s.sh"
	printf 'tesuji-image: %s: done in %ds\n' "$s" $((SECONDS - start)) >&2
done
