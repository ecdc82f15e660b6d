#!/usr/bin/env bash
# Installs the Debian packages the daemon and its tests run against, when
# they are missing. Needs root the first time only.
set -euo pipefail

packages=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || packages+=(mosquitto)
# The tunnel metrics are checked with promtool and read back through Prometheus.
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
# Container images and their end-to-end tests (deploy/, maintenance/).
for tool in podman runc debootstrap catatonit; do
  command -v "$tool" >/dev/null 2>&1 || packages+=("$tool")
done
# The maintenance tool's ssh:// servers are tested against a private sshd.
[ -x /usr/sbin/sshd ] || packages+=(openssh-server)
# The dashboard's browser tests drive Debian's chromium through Playwright.
[ -x /usr/bin/chromium ] || packages+=(chromium)

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${packages[*]}; install them as root." >&2
  exit 1
fi

echo "Installing ${packages[*]} from Debian's archive"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
