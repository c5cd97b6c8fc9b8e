#!/usr/bin/env bash
# katago-config.sh writes /etc/tesuji/katago.cfg, a KataGo analysis config tuned for the
# EC2 instance type: how many positions to search at once, threads per position, the GPU
# batch size and the evaluation cache. The worker fits and measures its own settings; this
# file is an override, used when worker.env sets TESUJI_KATAGO_CONFIG to it, and the
# config of the image's first warm-up run.
#
# It runs twice in an image's life:
#   at build time (no argument), for the build instance type (TESUJI_INSTANCE_TYPE), before
#     the warm-up run that fills the TensorRT cache for exactly this config;
#   at every boot (--boot, from the unit's ExecStartPre), where it asks the instance
#     metadata service (IMDSv2) for the instance type and rewrites the config only when the
#     fleet launched the image on a different type. A worker that cannot reach the metadata
#     service keeps the config it has.
#
# The numbers are per GPU: the worker runs one KataGo process per GPU. They are starting
# points chosen from the guidance in KataGo's analysis_example.cfg (total search threads
# 16-64 for mid-range GPUs, 32-256 for strong ones, nnMaxBatchSize at least the total), not
# measurements; packer/README.md says how to measure them on a worker. The file stands
# alone because the image keeps it at /usr/local/lib/tesuji/katago-config.sh.
set -euo pipefail

root="${TESUJI_ROOT:-}"
config=$root/etc/tesuji/katago.cfg
katago_home=/var/lib/tesuji/katago
imds=${TESUJI_IMDS_ENDPOINT:-http://169.254.169.254}

log() {
	printf 'tesuji-image: katago-config: %s\n' "$*" >&2
}

# instance_type_from_imds asks IMDSv2: a session token first, then the instance type.
instance_type_from_imds() {
	local token
	token=$(curl --fail --silent --show-error --max-time 3 --request PUT \
		--header 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token") || return 1
	curl --fail --silent --show-error --max-time 3 \
		--header "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/instance-type"
}

boot=false
case ${1:-} in
--boot) boot=true ;;
"") ;;
*)
	log "usage: katago-config.sh [--boot]"
	exit 2
	;;
esac

type=${TESUJI_INSTANCE_TYPE:-}
if [ -z "$type" ]; then
	if ! type=$(instance_type_from_imds); then
		if $boot && [ -s "$config" ]; then
			log "instance metadata unavailable; keeping $config"
			exit 0
		fi
		log "error: instance type unknown: set TESUJI_INSTANCE_TYPE or run on EC2"
		exit 1
	fi
fi
case $type in
*[!a-z0-9.-]* | "" | *..*)
	log "error: '$type' is not an EC2 instance type"
	exit 1
	;;
esac

if $boot && [ -s "$config" ] && grep -qx "# instance_type = $type" "$config"; then
	exit 0
fi

# Per family: GPU, positions searched in parallel, search threads per position, largest
# GPU batch, log2 of the evaluation cache entries (each entry holds a policy and an
# ownership map, a few KB on 19x19, so the smallest size of each family bounds it).
family=${type%%.*}
case $family in
g4dn) gpu="NVIDIA T4 16 GB" analysis=8 search=4 batch=32 cache=20 ;;
g5) gpu="NVIDIA A10G 24 GB" analysis=12 search=4 batch=48 cache=20 ;;
g6) gpu="NVIDIA L4 24 GB" analysis=12 search=4 batch=48 cache=20 ;;
g6e) gpu="NVIDIA L40S 48 GB" analysis=16 search=4 batch=64 cache=21 ;;
p3) gpu="NVIDIA V100 16 GB" analysis=12 search=4 batch=48 cache=21 ;;
p4d | p4de) gpu="NVIDIA A100" analysis=16 search=4 batch=64 cache=22 ;;
p5 | p5e | p5en) gpu="NVIDIA H100/H200" analysis=24 search=4 batch=96 cache=22 ;;
*) gpu="unknown (conservative defaults)" analysis=8 search=4 batch=32 cache=20 ;;
esac

install -d -m 0755 "$(dirname "$config")"
tmp=$(mktemp "$config.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat >"$tmp" <<CONFIG
# KataGo analysis config for the tesuji worker, written by katago-config.sh.
# It is rewritten at boot when the instance type below is not the one running; to tune by
# hand, point TESUJI_KATAGO_CONFIG at another file instead of editing this one.
# instance_type = $type
# gpu = $gpu

# The TensorRT timing cache (and OpenCL tuning) filled by the image's warm-up run.
homeDataDir = $katago_home
logDir = $katago_home/logs
logAllRequests = false
logAllResponses = false
logSearchInfo = false

# tesuji stores every result from Black's point of view.
reportAnalysisWinratesAs = BLACK
maxVisits = 500

numAnalysisThreads = $analysis
numSearchThreadsPerAnalysisThread = $search
nnMaxBatchSize = $batch
numNNServerThreadsPerModel = 1
nnCacheSizePowerOfTwo = $cache
nnMutexPoolSizePowerOfTwo = 17
nnRandomize = true
CONFIG
chmod 0644 "$tmp"
mv -f "$tmp" "$config"
trap - EXIT
log "wrote $config for $type ($gpu): $analysis positions x $search threads, batch $batch"
