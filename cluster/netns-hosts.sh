#!/usr/bin/env bash
# Test "hosts" on one machine, made of Linux network namespaces (run as root).
#
# Each host shoal-hI is a network namespace with loopback up and one veth pair to the bridge
# shoal-br0 in the root namespace. The bridge has 10.213.0.1/24; host I has 10.213.0.(10+I)/24 on
# its interface eth0 (its root-side peer is shoal-vI). Traffic between hosts, and between the root
# namespace and a host, really crosses interfaces, so links can be taken down and slowed down.
# Nothing is routed outside 10.213.0.0/24.
#
#   netns-hosts.sh up N              create hosts shoal-h1..shoal-hN (removes old ones first)
#   netns-hosts.sh down              remove every shoal-* namespace, link and bridge; idempotent, also
#                                    after a crashed run (kills processes left inside the namespaces)
#   netns-hosts.sh addr HOST         print a host's address (HOST is 1..N or shoal-hI)
#   netns-hosts.sh delay HOST MS     tc netem: add MS ms of delay to the host's traffic (both ways)
#   netns-hosts.sh loss HOST PCT     tc netem: drop PCT % of the host's packets (both ways)
#   netns-hosts.sh rate HOST RATE    tc tbf: cap the host's bandwidth both ways (e.g. 20mbit)
#   netns-hosts.sh clear HOST        remove delay, loss and rate caps
#   netns-hosts.sh link HOST up|down take the host's link up or down
#   netns-hosts.sh has-netem         exit 0 when the kernel supports tc netem (sch_netem)
set -euo pipefail

PREFIX=shoal
BRIDGE=${PREFIX}-br0
SUBNET=10.213.0
BRIDGE_ADDR=${SUBNET}.1

die() {
  echo "netns-hosts.sh: $*" >&2
  exit 1
}

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  command -v ip >/dev/null || die "ip (iproute2) not found"
}

# host index from "3" or "shoal-h3"
host_index() {
  local h=${1:-}
  h=${h#"${PREFIX}-h"}
  [[ $h =~ ^[0-9]+$ ]] && ((h >= 1 && h <= 200)) || die "bad host '${1:-}' (expected 1..200 or ${PREFIX}-hN)"
  ip netns list | grep -qw "${PREFIX}-h${h}" || die "host ${PREFIX}-h${h} does not exist (run: up N)"
  echo "$h"
}

down() {
  local ns pids link
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${PREFIX}-" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^${PREFIX}-" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  rm -rf "/etc/netns/${PREFIX}-"* 2>/dev/null || true
}

up() {
  local n=${1:-}
  [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 200)) || die "up needs a host count 1..200"
  down
  ip link add "$BRIDGE" type bridge
  ip addr add "${BRIDGE_ADDR}/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local i ns veth
  for ((i = 1; i <= n; i++)); do
    ns=${PREFIX}-h${i}
    veth=${PREFIX}-v${i}
    ip netns add "$ns"
    ip link add "$veth" type veth peer name "${PREFIX}-p${i}"
    ip link set "${PREFIX}-p${i}" netns "$ns"
    ip link set "$veth" master "$BRIDGE"
    ip link set "$veth" up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "${PREFIX}-p${i}" name eth0
    ip -n "$ns" addr add "${SUBNET}.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    # Names a process may advertise (its hostname) resolve to an address the other hosts reach.
    mkdir -p "/etc/netns/${ns}"
    printf '127.0.0.1 localhost\n%s %s\n' "${BRIDGE_ADDR}" "$(hostname)" >"/etc/netns/${ns}/hosts"
  done
}

# The two ends of host I's link: eth0 inside the namespace (egress from the host) and shoal-vI in
# the root namespace (egress towards the host).
tc_both() {
  local i=$1
  shift
  ip netns exec "${PREFIX}-h${i}" tc "$@" dev eth0 "${TC_ARGS[@]}"
  tc "$@" dev "${PREFIX}-v${i}" "${TC_ARGS[@]}"
}

clear_host() {
  local i=$1
  ip netns exec "${PREFIX}-h${i}" tc qdisc del dev eth0 root 2>/dev/null || true
  tc qdisc del dev "${PREFIX}-v${i}" root 2>/dev/null || true
}

has_netem() {
  local probe=${PREFIX}-probe0
  ip link del "$probe" 2>/dev/null || true
  ip link add "$probe" type dummy 2>/dev/null || return 1
  local ok=0
  tc qdisc add dev "$probe" root netem delay 1ms 2>/dev/null || ok=1
  ip link del "$probe" 2>/dev/null || true
  return $ok
}

netem() {
  local i=$1
  shift
  has_netem || die "tc netem is not available in this kernel (module sch_netem missing)"
  clear_host "$i"
  TC_ARGS=(root netem "$@")
  tc_both "$i" qdisc add
}

cmd=${1:-}
shift || true
case $cmd in
up) need_root && up "$@" ;;
down) need_root && down ;;
addr) echo "${SUBNET}.$((10 + $(host_index "${1:-}")))" ;;
delay)
  need_root
  i=$(host_index "${1:-}")
  [[ ${2:-} =~ ^[0-9]+$ ]] || die "delay needs milliseconds"
  netem "$i" delay "${2}ms"
  ;;
loss)
  need_root
  i=$(host_index "${1:-}")
  [[ ${2:-} =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "loss needs a percentage"
  netem "$i" loss "${2}%"
  ;;
rate)
  need_root
  i=$(host_index "${1:-}")
  [[ ${2:-} =~ ^[0-9]+(kbit|mbit|gbit)$ ]] || die "rate needs e.g. 20mbit"
  clear_host "$i"
  TC_ARGS=(root tbf rate "$2" burst 64kb latency 2s)
  tc_both "$i" qdisc add
  ;;
clear) need_root && clear_host "$(host_index "${1:-}")" ;;
link)
  need_root
  i=$(host_index "${1:-}")
  [[ ${2:-} == up || ${2:-} == down ]] || die "link needs up or down"
  ip link set "${PREFIX}-v${i}" "$2"
  ;;
has-netem) need_root && has_netem ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
