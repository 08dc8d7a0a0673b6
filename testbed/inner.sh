#!/bin/sh
# inner.sh <hostdir> <name>: runs as PID 1 of a fresh PID namespace, inside
# fresh mount/UTS/IPC/net namespaces made by unshare (see testbed.go). It
# builds a copy-on-write view of / and execs sshd in it. Everything it mounts
# lives only in this mount namespace and vanishes with it.
set -eu
S=$1; NAME=$2; R=$S/root; F=$R/fs
mkdir -p "$R"
mount -t tmpfs -o mode=0755 "tmpfs-$NAME" "$R"
mkdir -p "$R/up" "$R/work" "$F"
mount -t overlay "overlay-$NAME" -o "lowerdir=/,upperdir=$R/up,workdir=$R/work" "$F"
mount -t proc proc "$F/proc"
mount --rbind /dev "$F/dev"
mount --rbind /sys "$F/sys"
mount -t tmpfs -o mode=0755 tmpfs "$F/run"
mount -t tmpfs -o mode=1777 tmpfs "$F/tmp"
mkdir -p "$F/run/sshd"
# a clean /root: never the machine's dotfiles or tokens
mount -t tmpfs -o mode=0700 tmpfs "$F/root"
cp -a /etc/skel/. "$F/root/"
hostname "$NAME"
echo "$NAME" > "$F/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost\n' "$NAME" > "$F/etc/hosts"
rm -f "$F/etc/resolv.conf"; : > "$F/etc/resolv.conf"
if [ -f "$S/os-release" ]; then rm -f "$F/etc/os-release"; cp "$S/os-release" "$F/etc/os-release"; fi
mkdir -p "$F/etc/ssh/testbed"
cp "$S/ssh_host_ed25519_key" "$F/etc/ssh/testbed/"
chmod 600 "$F/etc/ssh/testbed/ssh_host_ed25519_key"
cat > "$F/etc/ssh/testbed/sshd_config" <<CONF
ListenAddress 0.0.0.0:22
HostKey /etc/ssh/testbed/ssh_host_ed25519_key
PidFile /run/sshd.pid
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
Subsystem sftp internal-sftp
LogLevel ERROR
CONF
# "*": no password but not locked (sshd without PAM refuses a locked "!" account)
if chroot "$F" id -u mke >/dev/null 2>&1; then
  chroot "$F" usermod -p '*' -s /bin/bash mke
  mkdir -p "$F/home/mke"; chroot "$F" chown mke: /home/mke
else
  chroot "$F" useradd -m -s /bin/bash -p '*' mke
fi
mkdir -p "$F/etc/sudoers.d"
echo 'mke ALL=(ALL) NOPASSWD:ALL' > "$F/etc/sudoers.d/mke"
chmod 0440 "$F/etc/sudoers.d/mke"
for h in root home/mke; do
  mkdir -p "$F/$h/.ssh"
  cp "$S/authorized_keys" "$F/$h/.ssh/authorized_keys"
  chmod 700 "$F/$h/.ssh"; chmod 600 "$F/$h/.ssh/authorized_keys"
done
chroot "$F" chown -R mke: /home/mke/.ssh
[ -d "$S/seed" ] && cp -a "$S/seed/." "$F/"
if [ -s "$S/binds" ]; then
  while read -r src dst; do mkdir -p "$F$dst"; mount --bind "$src" "$F$dst"; done < "$S/binds"
fi
exec chroot "$F" /usr/sbin/sshd -D -e -f /etc/ssh/testbed/sshd_config
