# Shared by the set-up scripts: run as root (directly or through sudo), and
# install Debian packages with one `apt-get update` per run.

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

apt_install() {
    if [ -z "${HVTUNE_APT_UPDATED:-}" ]; then
        as_root apt-get update -qq
        HVTUNE_APT_UPDATED=1
        export HVTUNE_APT_UPDATED
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
