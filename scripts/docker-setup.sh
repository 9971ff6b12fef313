#!/usr/bin/env bash
# Docker engine and base image for the harness's Docker backend, on a CI machine or a fresh
# developer machine of ours (root, Debian). Idempotent: every step is skipped when its result is
# already there. Called by .ci/run; never by the README's test command (it installs system
# packages and starts a daemon, which a user's machine must not get behind their back).
#
#   scripts/docker-setup.sh            engine + base image (+ harness image if a venv is given)
#   PYTHON=.venv/bin/python scripts/docker-setup.sh
#                                       ... and also builds the harness image with that Python
#
# Steps (each timed, times printed at the end):
#   1. `apt-get install -y docker.io debootstrap` when dockerd or debootstrap is missing;
#   2. `dockerd --storage-driver=overlay2|vfs --iptables=false` in the background (log:
#      $DOCKERD_LOG) when the socket does not answer, then a bounded wait for it; if dockerd
#      exits, its log is shown. overlay2 is used when a test overlay mount works, else vfs;
#   3. base image $BASE_IMAGE (default conformance-base:bookworm) from
#      `debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm DIR`
#      piped through `tar -C DIR -c . | docker import -`, unless it exists;
#   4. with PYTHON set (a Python that has the harness and the `docker` SDK installed), the harness
#      image on top of it: `python -m harness.runtime.docker prepare --base-image $BASE_IMAGE`.
#
# Why these flags: the machines have no registry access and no iptables in their network
# namespace. vfs works on any filesystem but copies every layer, and every new container's root
# filesystem, in full (images are kept to two layers for it); overlay2 does neither, and works on
# our machines' ext4 (measured: see docker/README.md). Published ports go through docker-proxy,
# which needs no iptables.
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-conformance-base:bookworm}"
# overlay2 when the kernel and the filesystem under /var/lib/docker allow it (probed with a real
# overlay mount), else vfs; DOCKER_STORAGE_DRIVER=vfs|overlay2 forces one.
STORAGE_DRIVER="${DOCKER_STORAGE_DRIVER:-auto}"
SUITE="${DEBIAN_SUITE:-bookworm}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/conformance-dockerd.log}"
SOCKET_WAIT_SECONDS="${SOCKET_WAIT_SECONDS:-90}"
PYTHON="${PYTHON:-}"

say() { printf 'docker-setup: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
TIMES=()
timed() { # timed LABEL START
  local seconds
  seconds=$(awk -v a="$2" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  TIMES+=("$1=${seconds}s")
}

engine_answers() { docker info >/dev/null 2>&1; }

# -- 1. packages ------------------------------------------------------------------------------
t=$(now)
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]} (apt-get install -y ${missing[*]})"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
timed packages "$t"

# -- 2. engine --------------------------------------------------------------------------------
t=$(now)
if engine_answers; then
  say "engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
else
  [ "$(id -u)" -eq 0 ] || die "the Docker engine does not answer and only root can start dockerd here"
  if [ "$STORAGE_DRIVER" = auto ]; then
    STORAGE_DRIVER=vfs
    probe=$(mkdir -p /var/lib/docker && mktemp -d /var/lib/docker/.overlay-probe.XXXXXX)
    mkdir -p "$probe"/{lower,upper,work,merged}
    if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" \
        "$probe/merged" 2>/dev/null; then
      umount "$probe/merged"
      STORAGE_DRIVER=overlay2
    fi
    rm -rf "$probe"
  fi
  say "starting dockerd (storage $STORAGE_DRIVER, no iptables; log $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  # A socket or pid file left by a dockerd that was killed would stop the new one.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid /var/run/docker.sock
  fi
  setsid nohup dockerd --storage-driver="$STORAGE_DRIVER" --iptables=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
  dockerd_pid=$!
  waited=0
  until engine_answers; do
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
      say "dockerd exited; last lines of $DOCKERD_LOG:"
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      die "dockerd could not start on this machine (see the log lines above)"
    fi
    if [ "$waited" -ge "$SOCKET_WAIT_SECONDS" ]; then
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      die "dockerd (pid $dockerd_pid) did not answer on its socket within ${SOCKET_WAIT_SECONDS}s"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "engine up after ${waited}s (pid $dockerd_pid, server $(docker version --format '{{.Server.Version}}'), storage $(docker info --format '{{.Driver}}'))"
fi
timed engine "$t"

# -- 3. base image ----------------------------------------------------------------------------
# Bump BASE_RECIPE when the recipe below changes: an image of an older recipe is rebuilt.
BASE_RECIPE=2
t=$(now)
present_recipe=$(docker image inspect --format '{{ index .Config.Labels "org.trade-conformance.base-recipe" }}' "$BASE_IMAGE" 2>/dev/null || true)
if [ "$present_recipe" = "$BASE_RECIPE" ]; then
  say "base image $BASE_IMAGE present (recipe $BASE_RECIPE)"
else
  if [ -n "$present_recipe" ] || docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image $BASE_IMAGE is of recipe '${present_recipe:-none}', not $BASE_RECIPE: rebuilding it"
  fi
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root to build $BASE_IMAGE"
  rootfs=$(mktemp -d /tmp/conformance-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  say "building $BASE_IMAGE with debootstrap ($SUITE, minbase + python3) in $rootfs"
  if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      "$SUITE" "$rootfs" >"$rootfs.debootstrap.log" 2>&1; then
    tail -n 30 "$rootfs.debootstrap.log" >&2 || true
    die "debootstrap failed (log $rootfs.debootstrap.log)"
  fi
  rm -f "$rootfs.debootstrap.log"
  # mktemp -d made the root 0700; "/" of the image must be traversable by unprivileged users
  chmod 0755 "$rootfs"
  # Not needed at run time, and copied in full with every layer and every container under vfs:
  # apt lists and caches, manual pages, info, message translations (C.UTF-8 needs none) and
  # documentation (the copyright files stay).
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  find "$rootfs"/usr/share/doc -type f ! -name copyright -delete
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
    --change "LABEL org.trade-conformance.base-recipe=$BASE_RECIPE" \
    --message "debootstrap --variant=minbase $SUITE + python3 (scripts/docker-setup.sh)" \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  say "base image $BASE_IMAGE built"
fi
# the containers run unprivileged: the base image must let any user start python3 and make a venv
docker run --rm --network none --user 65534:65534 "$BASE_IMAGE" python3 -c 'import ensurepip, ssl, venv' \
  || die "base image $BASE_IMAGE cannot run python3 as an unprivileged user; remove it (docker rmi $BASE_IMAGE) and run this script again"
timed base_image "$t"

# -- 4. harness image -------------------------------------------------------------------------
if [ -n "$PYTHON" ]; then
  t=$(now)
  "$PYTHON" -m harness.runtime.docker prepare --base-image "$BASE_IMAGE"
  timed harness_image "$t"
fi

say "done: ${TIMES[*]}"
