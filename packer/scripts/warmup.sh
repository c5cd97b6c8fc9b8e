#!/usr/bin/env bash
# warmup.sh runs one analysis during the build, exactly as a worker will: the same binary,
# config, network and user. KataGo's TensorRT backend times its kernels the first time it
# loads a network for a GPU model and batch size and keeps the result under
# homeDataDir/trtcache (the OpenCL backend keeps its tuning under homeDataDir/opencltuning).
# Doing it here puts that cache in the image, so a new worker does not spend its first
# minutes tuning. The run also proves the image can analyse a position before it is saved.
# Then `tesuji katago tune` chooses the worker's settings as the worker will, measuring a
# few thread counts on the GPU, and caches them in the worker user's cache directory, so
# a new instance of the same GPU starts tuned.
set -euo pipefail
step=warmup
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

require_cmd timeout
katago=$root$katago_bin
config=$root$katago_config
model=$root$katago_model
for f in "$katago" "$config" "$model" "$root$katago_dir/SOURCES"; do
	[ -e "$f" ] || die "$f is missing: run the katago, tesuji and katago-config steps first"
done
timeout_s=${TESUJI_WARMUP_TIMEOUT:-1800}

# Under TESUJI_ROOT (the package test) the config's absolute paths lie outside the root;
# the override points KataGo at the same places inside it. A real build overrides nothing.
overrides=()
if [ -n "$root" ]; then
	overrides=(-override-config "homeDataDir=$root$katago_home,logDir=$root$katago_home/logs")
fi

# Five turns of a 19x19 game, so several positions are searched at once and batches form.
turns=5
query='{"id":"warmup","moves":[["B","Q16"],["W","D4"],["B","Q3"],["W","D16"]],"rules":"chinese","komi":7.5,"boardXSize":19,"boardYSize":19,"analyzeTurns":[0,1,2,3,4],"maxVisits":100}'

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

log "running katago analysis (up to ${timeout_s}s; TensorRT tunes on the first run)"
start=$SECONDS
# KataGo answers every query it has read before it exits at the end of its input.
if ! printf '%s\n' "$query" |
	as_worker timeout "$timeout_s" "$katago" analysis -config "$config" -model "$model" \
		"${overrides[@]}" >"$out" 2>"$err"; then
	tail -n 40 "$err" >&2
	die "katago analysis failed or ran past ${timeout_s}s"
fi
elapsed=$((SECONDS - start))

finals=$(grep -c '^{"id":"warmup","isDuringSearch":false' "$out" || true)
if grep -q -e '^{"error"' -e '"warning":' "$out" || [ "$finals" -ne "$turns" ]; then
	head -c 4000 "$out" >&2
	tail -n 40 "$err" >&2
	die "expected $turns final results for the warm-up query, got $finals"
fi

cp "$err" "$root$katago_home/warmup.log"
chmod 0640 "$root$katago_home/warmup.log"
if ! skipped TESUJI_SKIP_USER; then
	chown "$worker_user:$worker_user" "$root$katago_home/warmup.log"
fi

# The cache must be the one the worker will look up: same GPU, same batch size.
batch=$(config_value nnMaxBatchSize "$config")
katago_url=$(sed -n 's/^katago_url=//p' "$root$katago_dir/SOURCES")
case $katago_url in
*-trt*)
	[ -n "$(find "$root$katago_home/trtcache" -type f -name "*_batch${batch}_*" -print -quit 2>/dev/null)" ] ||
		die "no TensorRT timing cache for batch size $batch under $katago_home/trtcache"
	;;
*-opencl*)
	[ -n "$(find "$root$katago_home/opencltuning" -type f -print -quit 2>/dev/null)" ] ||
		die "no OpenCL tuning under $katago_home/opencltuning"
	;;
esac
log "warm-up answered $finals turns in ${elapsed}s"

# One measurement per GPU, as the worker runs one KataGo per GPU.
gpus=1
if command -v nvidia-smi >/dev/null 2>&1; then
	n=$(nvidia-smi --list-gpus 2>/dev/null | grep -c '^GPU' || true)
	[ "${n:-0}" -ge 1 ] && gpus=$n
fi
log "measuring the worker's KataGo settings on $gpus GPU(s)"
if ! tuned=$(as_worker timeout "$timeout_s" "$root$tesuji_bin" katago tune --gpus "$gpus" \
	--katago "$katago" --model "$model" --katago-home "$root$katago_home" --log-level warn); then
	die "tesuji katago tune failed or ran past ${timeout_s}s"
fi
log "worker settings: $tuned"
