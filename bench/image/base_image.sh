#!/usr/bin/env bash
# A local Debian bookworm base image for the Dockerfiles' BASE_IMAGE build argument, made from Debian's
# own packages (debootstrap), for machines that reach no container registry. Python 3.11 is bookworm's.
#   bench/image/base_image.sh [IMAGE]      (default localhost/voicetune-base:bookworm; a no-op if it exists)
set -euo pipefail
IMAGE=${1:-localhost/voicetune-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if podman image exists "$IMAGE"; then echo "base image $IMAGE: already there"; exit 0; fi
ROOT=$(mktemp -d /var/tmp/voicetune-base.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
# minbase + what the Dockerfiles' first steps expect of python:3.11-slim-bookworm: python3 with venv,
# CA certificates for pip, and useradd (passwd, in minbase).
nice -n 10 debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$ROOT" "$MIRROR" \
  > "$ROOT.log" 2>&1 || { tail -20 "$ROOT.log"; exit 1; }
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
tar -C "$ROOT" -c . | podman import --change 'CMD ["/bin/bash"]' - "$IMAGE" > /dev/null
rm -f "$ROOT.log"
echo "base image $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
