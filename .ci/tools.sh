#!/usr/bin/env bash
# The Debian tools the integration tests use, in one place for .ci/run and `make test`.
#   bash .ci/tools.sh check     list what is missing and the one command that installs it
#   bash .ci/tools.sh install   install what is missing (as root, or through sudo)
# Installing never starts the packages' services (snmpd, prometheus, alertmanager): a
# policy-rc.d that denies it is put in place for the install, the Debian way, unless one is
# there already. The tests start their own instances on free loopback ports either way.
set -euo pipefail

# command -> Debian package
TOOLS=(
    "snmpget:snmp"
    "snmpd:snmpd"
    "promtool:prometheus"
    "prometheus:prometheus"
    "prometheus-alertmanager:prometheus-alertmanager"
    "chromium:chromium"
    "systemd-analyze:systemd"
    "victoria-metrics:victoria-metrics"
)

missing_packages() {
    local entry tool package seen=" "
    for entry in "${TOOLS[@]}"; do
        tool=${entry%%:*}
        package=${entry#*:}
        if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1; then
            case "$seen" in *" $package "*) ;; *) seen="$seen$package "; echo "$package" ;; esac
        fi
    done
}

install_packages() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    local policy=/usr/sbin/policy-rc.d placed=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# installed by sobriety .ci/tools.sh for one apt-get run\nexit 101\n' \
            | $sudo tee "$policy" >/dev/null
        $sudo chmod 755 "$policy"
        placed=yes
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    if [ -n "$placed" ]; then
        $sudo rm -f "$policy"
    fi
}

mapfile -t need < <(missing_packages)
case "${1:-check}" in
    check)
        if [ ${#need[@]} -gt 0 ]; then
            if [ "$(id -u)" -eq 0 ]; then
                echo "installing the Debian tools the integration tests use: ${need[*]}"
                install_packages "${need[@]}"
            else
                echo "** The integration tests need Debian packages that are missing: ${need[*]}"
                echo "** Install them with:  sudo apt-get install --no-install-recommends ${need[*]}"
                echo "** (their tests are skipped until then; the summary at the end lists them)"
            fi
        fi
        ;;
    install)
        if [ ${#need[@]} -gt 0 ]; then
            install_packages "${need[@]}"
        fi
        ;;
    packages)
        printf '%s\n' "${need[@]}"
        ;;
    *)
        echo "usage: $0 check|install|packages" >&2
        exit 2
        ;;
esac
