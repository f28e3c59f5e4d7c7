#!/usr/bin/env bash
# Train an avatar's lip-sync model.
#
#   scripts/train_avatar.sh AVATAR_ID [--preset P] [--epochs N] [--tune N]
#       through the running platform's API: `livetalking avatars train` (LT_API_URL, LT_API_KEY).
#   scripts/train_avatar.sh AVATAR_ID --address http://HEAD:8265 --tenant TENANT_ID [--workers N] [...]
#       as a Ray job on that cluster (`ray job submit`): the job records the task in the platform's database
#       and trains it as a Ray Train job of N workers over the cluster's nodes (`livetalking avatars train-job`).
#       The job reads the LT_* settings exported here (relative folders are made absolute); every node must
#       reach the database, the artifact store and LT_TRAIN_STORAGE. LIVETALKING names the command on the
#       cluster's nodes (default: this checkout's, which suits a cluster of this machine's nodes).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin

[ $# -ge 1 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
avatar=$1
shift
address="" tenant="" workers="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --address) address=$2; shift 2 ;;
    --tenant) tenant=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ -z "$address" ]; then
  exec "$BIN/livetalking" avatars train "$avatar" "${args[@]}"
fi
[ -n "$tenant" ] || { echo "--tenant TENANT_ID is needed with --address" >&2; exit 2; }

export LT_DATA_ROOT
LT_DATA_ROOT=$(realpath "${LT_DATA_ROOT:-data}")
export LT_MODELS_ROOT
LT_MODELS_ROOT=$(realpath "${LT_MODELS_ROOT:-models}")
[ -z "$workers" ] || export LT_AVATAR_TRAIN_WORKERS=$workers
runtime_env=$("$BIN/python" -c '
import json, os
print(json.dumps({"env_vars": {k: v for k, v in os.environ.items() if k.startswith("LT_")}}))')

exec "$BIN/ray" job submit --address "$address" --runtime-env-json "$runtime_env" -- \
  "${LIVETALKING:-$(pwd)/$BIN/livetalking}" avatars train-job "$avatar" --tenant "$tenant" "${args[@]}"
