#!/bin/sh
# Starts a command in an image's root filesystem the way a container runtime would, without
# one: run by test/harness/image.ts inside `unshare --mount --uts` (a private mount namespace
# that disappears with its last process, and a hostname of its own), as root.
#
#   run-rootfs.sh ROOTFS [--read-only] [--workdir DIR] [--user UID:GID] [--hostname NAME]
#                 [--tmpfs TARGET SIZE]... [--bind-ro SOURCE TARGET]... -- NAME=value... COMMAND ARGS...
#
# The command becomes PID 1 of a new PID namespace (like a container's entrypoint), with a fresh
# /proc, a minimal /dev, the given tmpfs and read-only bind mounts, exactly the environment
# given, the user's uid and gid without supplementary groups or capabilities, and
# no_new_privs. With --read-only the root filesystem is remounted read-only once the mount
# points exist. The network is the host's (there is no network namespace): ports listen on it.
set -eu
root="$1"
shift

# Mount points are resolved inside the image (its symlinks, e.g. /var/run -> /run), never on the host.
inside() { chroot "$root" sh -c 'mkdir -p "$1" && readlink -f "$1"' sh "$1"; }

mount --bind "$root" "$root"
mount -t tmpfs -o nosuid,mode=0755,size=1m tmpfs "$root/dev"
for dev in null zero full random urandom tty; do
  touch "$root/dev/$dev"
  mount --bind "/dev/$dev" "$root/dev/$dev"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mkdir "$root/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777,size=64m tmpfs "$root/dev/shm"

read_only=0 workdir=/ user=0:0
while [ "$1" != -- ]; do
  case "$1" in
    --read-only) read_only=1; shift ;;
    --workdir) workdir="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --hostname) hostname "$2"; shift 2 ;;
    --tmpfs)
      target="$(inside "$2")"
      mount -t tmpfs -o "nosuid,nodev,mode=1777,size=$3" tmpfs "$root$target"
      shift 3 ;;
    --bind-ro)
      target="$(inside "$3")"
      mount --bind "$2" "$root$target"
      mount -o remount,bind,ro "$root$target"
      shift 3 ;;
    *) echo "run-rootfs: unknown option $1" >&2; exit 125 ;;
  esac
done
shift
[ "$read_only" = 0 ] || mount -o remount,bind,ro "$root"

uid="${user%%:*}"
gid="${user#*:}"
# env -i: exactly the NAME=value words given, then the command (the first word without "=").
exec setpriv --no-new-privs \
  unshare --pid --fork --mount-proc=/proc --root="$root" --wd="$workdir" --setgid="$gid" --setuid="$uid" \
  -- /usr/bin/env -i "$@"
