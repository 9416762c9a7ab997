#!/bin/sh
# Installs what softflowd needs to build, test and run its demo on Debian.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential autoconf pkg-config ca-certificates \
	libpcap-dev libevent-dev libinih-dev libcmocka-dev \
	nfdump tshark tcpdump tcpreplay iproute2 mandoc \
	clang llvm libclang-rt-14-dev softflowd pmacct python3 procps
