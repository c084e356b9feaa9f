#!/usr/bin/env bash
# Builds Berth's OCI image with buildah, laid out like distribution's `registry:3`,
# without downloading a base image: the root file system holds the binary, the
# shared objects it loads (found with ldd) and their loader, CA certificates, and
# a default config. Nothing else — there is no shell in the image.
#
#   scripts/build-image.sh [--binary PATH] [--tag NAME] [--output TRANSPORT:REF]
#
#   --binary   the regctl binary to package (default .build/release/regctl)
#   --tag      image name in buildah's local storage (default berth:latest)
#   --output   also write the image there, e.g. oci-archive:/tmp/berth.tar
#
# The image:
#   /bin/registry                      the binary; started as `registry` it speaks
#                                      distribution's command line
#   /etc/distribution/config.yml       image/config.yml (storage in /var/lib/registry, :5000)
#   /etc/docker/registry/config.yml    -> /etc/distribution/config.yml (registry:2's path,
#                                      which `garbage-collect` examples still use)
#   ENTRYPOINT ["/bin/registry"]  CMD ["serve", "/etc/distribution/config.yml"]
#   VOLUME /var/lib/registry      EXPOSE 5000/tcp
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
binary="$here/.build/release/regctl"
tag="berth:latest"
output=""
while (($#)); do
    case "$1" in
        --binary) binary=$2; shift 2 ;;
        --tag) tag=$2; shift 2 ;;
        --output) output=$2; shift 2 ;;
        *) echo "build-image: unknown argument $1" >&2; exit 64 ;;
    esac
done
[[ -x "$binary" ]] || { echo "build-image: no executable at $binary (run make build)" >&2; exit 66; }
command -v buildah >/dev/null || { echo "build-image: buildah is not installed (scripts/install-deps.sh --test)" >&2; exit 69; }

# buildah's storage: vfs needs no kernel overlay support; a private root keeps
# this build out of the machine's container storage unless the caller sets one.
storage=(--storage-driver "${BUILDAH_STORAGE_DRIVER:-vfs}")
[[ -n "${BUILDAH_ROOT:-}" ]] && storage+=(--root "$BUILDAH_ROOT" --runroot "$BUILDAH_ROOT/run")

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

install -D -m 0755 "$binary" "$rootfs/bin/registry"

# Every shared object the binary loads, at the path the loader finds it, and the
# loader itself. ldd prints "name => /path (addr)" and "/lib64/ld-linux… (addr)".
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
while read -r lib; do
    real=$(readlink -f "$lib")
    install -D -m 0755 "$real" "$rootfs$lib"
done
# Foundation loads the resolver and name-service modules at run time (dlopen),
# so ldd does not see them.
for lib in /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 \
           /lib/x86_64-linux-gnu/libresolv.so.2; do
    [[ -e "$lib" ]] && install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
done

if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
install -D -m 0644 "$here/image/config.yml" "$rootfs/etc/distribution/config.yml"
mkdir -p "$rootfs/etc/docker/registry" "$rootfs/var/lib/registry" "$rootfs/tmp"
ln -s /etc/distribution/config.yml "$rootfs/etc/docker/registry/config.yml"
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/registry\nnobody:x:65534:65534:nobody:/nonexistent:/bin/registry\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

version=$("$binary" --version 2>/dev/null | head -1 || echo unknown)
ctr=$(buildah "${storage[@]}" from --quiet scratch)
cleanup() { buildah "${storage[@]}" rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$rootfs"; }
trap cleanup EXIT
buildah "${storage[@]}" copy --quiet "$ctr" "$rootfs" / >/dev/null
buildah "${storage[@]}" config \
    --entrypoint '["/bin/registry"]' \
    --cmd 'serve /etc/distribution/config.yml' \
    --env PATH=/bin \
    --port 5000/tcp \
    --volume /var/lib/registry \
    --workingdir / \
    --os linux --arch amd64 \
    --label org.opencontainers.image.title=berth \
    --label "org.opencontainers.image.version=$version" \
    --label org.opencontainers.image.description="Berth container image registry" \
    "$ctr"
buildah "${storage[@]}" commit --quiet --format oci "$ctr" "$tag" >/dev/null
echo "build-image: $tag ($version)"
if [[ -n "$output" ]]; then
    buildah "${storage[@]}" push --quiet "$tag" "$output"
    echo "build-image: wrote $output"
fi
