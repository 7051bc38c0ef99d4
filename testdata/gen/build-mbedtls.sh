#!/bin/sh
# Build mbedTLS ssl_client2 / ssl_server2 from Debian's source packages, in four
# variants: 2.28 and 3.6, each with the stock input buffer (16384) and an
# ESP-like one (MBEDTLS_SSL_IN_CONTENT_LEN 4096).
#
# Usage (as root, network to the Debian mirror needed on the first run):
#   testdata/gen/build-mbedtls.sh            # builds into $TLSPCAP_GEN_CACHE
#
# Result: $CACHE/mbedtls-{2.28,3.6}-{16384,4096}/programs/ssl/ssl_{client,server}2
# Builds that already exist are skipped.
set -eu

CACHE=${TLSPCAP_GEN_CACHE:-/var/cache/tlspcap-gen}

# Debian packages the builds and the scenarios need: compilers and source
# tools, capture tools (tcpdump, tshark/editcap), openssl, iproute2 (veth,
# network namespaces), headless Chromium and libnss3-tools (certutil, for
# Chromium's trust store). Installed when missing.
missing=
for p in build-essential dpkg-dev tcpdump tshark wireshark-common openssl iproute2 chromium libnss3-tools libc-bin; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
fi
SRC=$CACHE/src
mkdir -p "$SRC"

# deb-src entry for the mirror the machine already uses.
if ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
	mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	cat >/etc/apt/sources.list.d/tlspcap-src.sources <<EOF
Types: deb-src
URIs: $mirror
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt-get update
fi

cd "$SRC"
ls mbedtls_2.28*.dsc >/dev/null 2>&1 || apt-get source --download-only mbedtls/bookworm
ls mbedtls_3.6*.dsc >/dev/null 2>&1 || apt-get source --download-only mbedtls/trixie

build() { # build VERSION-PREFIX DSC-GLOB CONFIG-HEADER INLEN
	name=mbedtls-$1-$4
	dir=$CACHE/$name
	if [ -x "$dir/programs/ssl/ssl_client2" ] && [ -x "$dir/programs/ssl/ssl_server2" ]; then
		echo "skip $name (built)"
		return
	fi
	rm -rf "$dir"
	dsc=$(ls $SRC/$2 | head -n1)
	dpkg-source --no-check -x "$dsc" "$dir" >/dev/null
	if [ "$4" != 16384 ]; then
		# Append the ESP-like input buffer to the configuration header.
		hdr=$dir/$3
		sed -i "s|^//#define MBEDTLS_SSL_IN_CONTENT_LEN .*|#define MBEDTLS_SSL_IN_CONTENT_LEN $4|" "$hdr"
		grep -q "^#define MBEDTLS_SSL_IN_CONTENT_LEN $4" "$hdr" || {
			echo "could not set MBEDTLS_SSL_IN_CONTENT_LEN in $hdr" >&2
			exit 1
		}
	fi
	(cd "$dir" && make -j2 lib >/dev/null && make -C programs ssl/ssl_client2 ssl/ssl_server2 >/dev/null)
	echo "built $name"
}

build 2.28 'mbedtls_2.28*.dsc' include/mbedtls/config.h 16384
build 2.28 'mbedtls_2.28*.dsc' include/mbedtls/config.h 4096
build 3.6 'mbedtls_3.6*.dsc' include/mbedtls/mbedtls_config.h 16384
build 3.6 'mbedtls_3.6*.dsc' include/mbedtls/mbedtls_config.h 4096
