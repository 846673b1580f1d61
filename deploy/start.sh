#!/usr/bin/env bash
# Start N replicas of Autograd Explorer on loopback ports and nginx in front of them; Ctrl-C stops them all.
#
#   deploy/start.sh [N]          N replicas (default 2), learners open http://THIS-MACHINE:8080
#
# Settings (environment):
#   LISTEN      where nginx listens (default 0.0.0.0:8080)
#   FIRST_PORT  first replica's port (default 8501; replica i gets FIRST_PORT + i, on 127.0.0.1 only)
#   APP_PORTS   the replicas' ports, space-separated (overrides N and FIRST_PORT)
#   CORES       cores to share among the replicas (default: all); each replica gets AUTOGRAD_EXPLORER_THREADS =
#               CORES / N (at least 1) torch threads, unless AUTOGRAD_EXPLORER_THREADS is set
#   RUN_DIR     nginx's prefix: its rendered config, pid, logs and temp files, and each replica's log and pid
#               (default: a new temporary folder)
#   PYTHON      the Python with the app's requirements (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."

REPLICAS=${1:-2}
LISTEN=${LISTEN:-0.0.0.0:8080}
FIRST_PORT=${FIRST_PORT:-8501}
APP_PORTS=${APP_PORTS:-$(seq -s ' ' "$FIRST_PORT" $((FIRST_PORT + REPLICAS - 1)))}
read -r -a PORTS <<< "$APP_PORTS"
CORES=${CORES:-$(nproc)}
THREADS=${AUTOGRAD_EXPLORER_THREADS:-$(( CORES / ${#PORTS[@]} > 0 ? CORES / ${#PORTS[@]} : 1 ))}
RUN_DIR=${RUN_DIR:-$(mktemp -d -t autograd-explorer.XXXXXX)}
PYTHON=${PYTHON:-.venv/bin/python}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
    echo "nginx is missing: install it with  sudo apt-get install -y nginx" >&2
    exit 1
fi

servers=""
for port in "${PORTS[@]}"; do servers+="server 127.0.0.1:$port max_fails=1 fail_timeout=10s; "; done
mkdir -p "$RUN_DIR/tmp"
sed -e "s|__LISTEN__|$LISTEN|" -e "s|__SERVERS__|$servers|" deploy/nginx.conf > "$RUN_DIR/nginx.conf"
"$NGINX" -t -q -p "$RUN_DIR/" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log"

pids=()
stop_all() { kill "${pids[@]}" 2>/dev/null || true; wait || true; }
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for port in "${PORTS[@]}"; do
    AUTOGRAD_EXPLORER_THREADS=$THREADS "$PYTHON" -m streamlit run serve.py --server.port "$port" \
        --server.address 127.0.0.1 --server.headless true > "$RUN_DIR/replica-$port.log" 2>&1 &
    pids+=($!)
    echo $! > "$RUN_DIR/replica-$port.pid"
done
"$NGINX" -p "$RUN_DIR/" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log" &
pids+=($!)

echo "${#PORTS[@]} replicas on 127.0.0.1:${APP_PORTS// /, } ($THREADS torch threads each), nginx on $LISTEN"
echo "logs, pids and nginx's files in $RUN_DIR; Ctrl-C stops everything"
wait  # a replica that dies leaves the others (and nginx) running: its learners move to another replica
