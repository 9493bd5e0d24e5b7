#!/usr/bin/env bash
# Build the grading image (autograder/Dockerfile): `make image`, or IMAGE=name ENGINE=podman|docker.
#
# With docker (an engine that answers), the base is the Dockerfile's default, python:3.11-slim.
# With podman on machines with no registry, the base is a local Debian bookworm made with mmdebstrap
# and `podman import`ed once as localhost/edsbase:bookworm; containers.conf beside this script holds
# the runtime and ulimits that podman needs there. Either way the Python packages come from a
# wheelhouse downloaded on the host (`pip download`, cached in var/image/wheels until
# requirements.txt changes), so the build itself needs no network.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
image=${IMAGE:-localhost/eds-grader:latest}
work=var/image
python=$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )
export CONTAINERS_CONF=${CONTAINERS_CONF:-$repo/autograder/container/containers.conf}

if [ -z "${ENGINE:-}" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker
  elif command -v podman >/dev/null; then ENGINE=podman
  else echo "build.sh: neither a docker engine nor podman is available" >&2; exit 3; fi
fi

# The course's own packages (packages/*, named in requirements.txt by path) become wheels beside the
# downloaded ones, and the image's requirements name them by project name.
mkdir -p "$work/wheels"
if ! cmp -s requirements.txt "$work/wheels/requirements.in"; then
  grep -v '^\./packages/' requirements.txt > "$work/downloads.txt"
  "$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    -r "$work/downloads.txt" -d "$work/wheels"
  cp requirements.txt "$work/wheels/requirements.in"
fi
rm -f "$work"/wheels/eds_data-*.whl
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps ./packages/eds_data -w "$work/wheels"
sed 's|^\./packages/eds_data$|eds-data|' requirements.txt > "$work/wheels/requirements.txt"

# The context: the course as it is on disk (tracked and new files, never git-ignored ones) and the wheels.
rm -rf "$work/context"
mkdir -p "$work/context/course"
git ls-files -z --cached --others --exclude-standard -- source data autograder nbgrader_config.py \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$work/context/course"
cp -al "$work/wheels" "$work/context/wheels"

build_args=()
if [ "$ENGINE" = podman ] && [ -z "${BASE_IMAGE:-}" ]; then
  BASE_IMAGE=localhost/edsbase:bookworm
  if ! podman image exists "$BASE_IMAGE"; then
    mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
      bookworm "$work/base.tar"
    podman import --quiet "$work/base.tar" "$BASE_IMAGE" >/dev/null
    rm -f "$work/base.tar"
  fi
fi
[ -n "${BASE_IMAGE:-}" ] && build_args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
"$ENGINE" build --quiet "${build_args[@]}" -f autograder/Dockerfile -t "$image" "$work/context" >/dev/null
echo "$image"
