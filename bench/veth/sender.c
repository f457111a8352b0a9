// Sends one Ethernet/IPv4/TCP frame (the benchmark's packet: 192.168.1.1:40000 -> DST:80, SYN) out of an interface
// through an AF_PACKET socket as fast as it can for SECONDS, in batches of 64 (sendmmsg), and prints how many frames
// the kernel accepted. Used by scan-vs-lookup-veth.sh on a veth pair inside network namespaces it creates.
// Usage: sender IFACE DST_MAC DST_IP SECONDS
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned short checksum(const void *data, int len)
{
	const unsigned short *p = data;
	unsigned long sum = 0;
	for (; len > 1; len -= 2) sum += *p++;
	while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s IFACE DST_MAC DST_IP SECONDS\n", argv[0]);
		return 2;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) { perror("socket(AF_PACKET)"); return 1; }
	struct ifreq ifr = {0};
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) { perror(argv[1]); return 1; }
	int ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }

	unsigned char frame[64] = {0};
	struct ether_header *eth = (void *)frame;
	if (sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &eth->ether_dhost[0], &eth->ether_dhost[1], &eth->ether_dhost[2],
		   &eth->ether_dhost[3], &eth->ether_dhost[4], &eth->ether_dhost[5]) != 6) {
		fprintf(stderr, "bad MAC %s\n", argv[2]);
		return 2;
	}
	memcpy(eth->ether_shost, ifr.ifr_hwaddr.sa_data, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	struct iphdr *ip = (void *)(frame + 14);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(40);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = inet_addr("192.168.1.1");
	if (inet_pton(AF_INET, argv[3], &ip->daddr) != 1) { fprintf(stderr, "bad address %s\n", argv[3]); return 2; }
	ip->check = checksum(ip, 20);
	struct tcphdr *tcp = (void *)(ip + 1);
	tcp->source = htons(40000);
	tcp->dest = htons(80);
	tcp->doff = 5;
	tcp->syn = 1;

	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6 };
	memcpy(to.sll_addr, eth->ether_dhost, 6);
	enum { BATCH = 64 };
	struct iovec iov = { frame, sizeof frame };
	struct mmsghdr msgs[BATCH];
	for (int i = 0; i < BATCH; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1 } };

	double seconds = atof(argv[4]), start = now(), end = start + seconds, t = start;
	unsigned long long sent = 0;
	while ((t = now()) < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0) { perror("sendmmsg"); return 1; }
		sent += n;
	}
	printf("%llu %.6f\n", sent, t - start);
	return 0;
}
