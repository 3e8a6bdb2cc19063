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

# Put a command on PATH as pipx does: a symbolic link to TARGET in
# $HVTUNE_BIN_DIR, else /usr/local/bin for root, else ~/.local/bin (which
# Debian's ~/.profile puts on PATH once it exists). A file there that is not
# a link is left alone. Says where, and the line to run when that folder is
# not on this shell's PATH.
link_command() {
    target="$1"
    name="$(basename "$target")"
    if [ -n "${HVTUNE_BIN_DIR:-}" ]; then
        bin="$HVTUNE_BIN_DIR"
    elif [ "$(id -u)" = 0 ]; then
        bin=/usr/local/bin
    else
        bin="$HOME/.local/bin"
    fi
    mkdir -p "$bin"
    if [ -e "$bin/$name" ] && [ ! -L "$bin/$name" ]; then
        echo "$bin/$name exists and is not a link: left alone; run $target"
        return 0
    fi
    ln -sfn "$target" "$bin/$name"
    echo "linked $bin/$name -> $target"
    case ":$PATH:" in
    *":$bin:"*) ;;
    *) echo "$bin is not on PATH: run  export PATH=\"$bin:\$PATH\"  (and add it to ~/.profile)" ;;
    esac
}
