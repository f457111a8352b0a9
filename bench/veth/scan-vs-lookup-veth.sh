#!/bin/bash
# Real iptables rules against the XDP programs of the scan-vs-lookup benchmark on a veth pair (issue 14, "going
# further"): packets per second the receiving side processes for N rules, N = 1 .. 100,000.
#
# Two network namespaces of its own (removed on exit) joined by a veth pair; a sender (sender.c, AF_PACKET,
# sendmmsg) in the first sends the benchmark's packet (TCP 192.168.1.1:40000 -> the last rule's address :80) for
# SECONDS; in the second either N iptables rules in INPUT (the same rules as the benchmark's scan: exact 5-tuples,
# the packet matches the last; -j DROP), with the legacy (xtables) and the nft backend, or an XDP program of
# scan_vs_lookup.o in driver mode (xdp_hash: one hash lookup; xdp_scan: the bpf_loop scan), attached by
# `Bpf.Bench xdp-hold`. "processed" is what the receiver counted (the matching rule's packet counter, or the
# veth's rx_queue_0_xdp_drops), so frames the sender pushed but the receiver dropped for want of time do not count.
#
# Needs root, iproute2, iptables (legacy and nft), ethtool, gcc, and a Release build of bench/Bpf.Bench:
#   dotnet build bench/Bpf.Bench -c Release && bench/veth/scan-vs-lookup-veth.sh [SECONDS] | tee veth.csv
set -euo pipefail
secs=${1:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bench_dll="$root/bench/Bpf.Bench/bin/Release/net10.0/Bpf.Bench.dll"
[ -f "$bench_dll" ] || { echo "build bench/Bpf.Bench in Release first ($bench_dll missing)" >&2; exit 2; }
for tool in ip iptables-legacy iptables-nft ethtool gcc; do
	command -v "$tool" > /dev/null || { echo "$tool not found (apt-get install iproute2 iptables ethtool gcc)" >&2; exit 2; }
done

A=bpfnet-svl-a B=bpfnet-svl-b VA=svl-va VB=svl-vb
tmp=$(mktemp -d)
cleanup() {
	ip netns del "$A" 2> /dev/null || true
	ip netns del "$B" 2> /dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
gcc -O2 -Wall -o "$tmp/sender" "$here/sender.c"

ip netns add "$A"
ip netns add "$B"
ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B"
ip -n "$A" addr add 192.168.1.1/16 dev "$VA"
ip -n "$B" addr add 192.168.2.1/16 dev "$VB"
ip -n "$A" link set "$VA" up
ip -n "$B" link set "$VB" up
mac=$(ip netns exec "$B" cat "/sys/class/net/$VB/address")

# Rule i's destination, as the benchmark: 10.0.0.1 + 256 * i.
dest() { local a=$((0x0A000001 + ($1 << 8))); echo "$((a >> 24 & 255)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255))"; }

send() { ip netns exec "$A" "$tmp/sender" "$VA" "$mac" "$1" "$secs"; }

echo "# $(date -u '+%Y-%m-%d %H:%M') UTC; kernel $(uname -r); load average before: $(cut -d' ' -f1-3 /proc/loadavg); $secs s per point"
echo "method,rules,seconds,sent,processed,pps"
for n in 1 10 100 1000 10000 100000; do
	last=$(dest $((n - 1)))
	ip -n "$B" addr replace "$last/32" dev "$VB"
	awk -v n="$n" 'BEGIN {
		print "*filter"; print ":INPUT ACCEPT [0:0]"; print ":FORWARD ACCEPT [0:0]"; print ":OUTPUT ACCEPT [0:0]"
		for (i = 0; i < n; i++) {
			a = 167772161 + i * 256
			printf "-A INPUT -s 192.168.1.1/32 -d %d.%d.%d.%d/32 -p tcp -m tcp --sport 40000 --dport 80 -j DROP\n", int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256, a % 256
		}
		print "COMMIT" }' > "$tmp/rules"
	for backend in legacy nft; do
		ip netns exec "$B" "iptables-$backend-restore" < "$tmp/rules"
		read -r sent elapsed < <(send "$last")
		processed=$(ip netns exec "$B" "iptables-$backend" -L INPUT "$n" -v -x -n 2> /dev/null | awk '{print $1}')
		echo "iptables-$backend,$n,$elapsed,$sent,$processed,$(awk -v p="$processed" -v s="$elapsed" 'BEGIN { printf "%.0f", p / s }')"
		ip netns exec "$B" "iptables-$backend" -F INPUT 2> /dev/null
	done
	for program in xdp_hash xdp_scan; do
		mkfifo "$tmp/hold"
		ip netns exec "$B" dotnet "$bench_dll" xdp-hold "$program" "$n" "$VB" < "$tmp/hold" > "$tmp/hold.out" 2>&1 &
		holder=$!
		exec 3> "$tmp/hold"
		for _ in $(seq 600); do grep -q ready "$tmp/hold.out" && break; kill -0 "$holder" 2> /dev/null || break; sleep 0.1; done
		grep -q ready "$tmp/hold.out" || { cat "$tmp/hold.out" >&2; exit 1; }
		before=$(ip netns exec "$B" ethtool -S "$VB" | awk '/rx_queue_0_xdp_drops/ {print $2}')
		read -r sent elapsed < <(send "$last")
		after=$(ip netns exec "$B" ethtool -S "$VB" | awk '/rx_queue_0_xdp_drops/ {print $2}')
		exec 3>&-
		wait "$holder"
		rm -f "$tmp/hold"
		processed=$((after - before))
		echo "$program,$n,$elapsed,$sent,$processed,$(awk -v p="$processed" -v s="$elapsed" 'BEGIN { printf "%.0f", p / s }')"
	done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
