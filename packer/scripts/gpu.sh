#!/usr/bin/env bash
# gpu.sh checks that the base image has a working NVIDIA driver and the CUDA version the
# KataGo release was built against, makes that CUDA's libraries the ones the loader finds,
# and installs the matching TensorRT runtime from NVIDIA's apt repository, pinned.
# TESUJI_SKIP_GPU=1 switches the step off (the package test has no GPU).
set -euo pipefail
step=gpu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

if skipped TESUJI_SKIP_GPU; then
	log "skipped (TESUJI_SKIP_GPU=1)"
	exit 0
fi
require_env TESUJI_CUDA_VERSION TESUJI_KATAGO_URL
require_cmd nvidia-smi apt-get ldconfig

# A KataGo built for one CUDA does not load against another; fail here rather than after
# the downloads.
case $TESUJI_KATAGO_URL in
*"cuda${TESUJI_CUDA_VERSION}"*) ;;
*) die "KataGo release $TESUJI_KATAGO_URL is not built for CUDA $TESUJI_CUDA_VERSION" ;;
esac

nvidia-smi -L >&2 || die "nvidia-smi found no GPU: is the driver loaded?"

cuda_dir=/usr/local/cuda-$TESUJI_CUDA_VERSION
[ -d "$cuda_dir" ] || die "$cuda_dir not found: the base image does not ship CUDA $TESUJI_CUDA_VERSION"
{
	echo "# CUDA $TESUJI_CUDA_VERSION, the version the KataGo release in /opt/katago was built for."
	for d in "$cuda_dir/lib64" "$cuda_dir/targets/x86_64-linux/lib"; do
		[ -d "$d" ] && echo "$d"
	done
} >/etc/ld.so.conf.d/tesuji-cuda.conf

case $TESUJI_KATAGO_URL in
*-trt*)
	require_env TESUJI_TENSORRT_VERSION
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-cache show "libnvinfer10=$TESUJI_TENSORRT_VERSION" >/dev/null 2>&1; then
		# NVIDIA's CUDA repository for this Ubuntu release; apt checks its signatures.
		# shellcheck source=/dev/null
		. /etc/os-release
		repo="ubuntu${VERSION_ID//./}"
		keyring=$(mktemp --suffix=.deb)
		curl --fail --silent --show-error --location --retry 5 --output "$keyring" \
			"https://developer.download.nvidia.com/compute/cuda/repos/$repo/x86_64/cuda-keyring_1.1-1_all.deb"
		dpkg -i "$keyring"
		rm -f "$keyring"
		apt-get update -q
	fi
	apt-get install -y -q --no-install-recommends --allow-downgrades \
		"libnvinfer10=$TESUJI_TENSORRT_VERSION" "libnvinfer-plugin10=$TESUJI_TENSORRT_VERSION"
	apt-mark hold libnvinfer10 libnvinfer-plugin10
	;;
esac

ldconfig
