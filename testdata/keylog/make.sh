#!/bin/sh
# Rebuilds the key-logged captures in testdata/keylog (run as root from the
# repository root: tcpdump on lo). Each NAME.pcapng comes with NAME.keys, the
# NSS key log its programs wrote; the decode tests compare the decrypted
# application data with the lines sent below.
#
#   tls10-ecdhe-aes128-sha   openssl s_client/s_server -tls1,   ECDHE-RSA-AES128-SHA
#   tls11-aes256-sha         openssl s_client/s_server -tls1_1, AES256-SHA (RSA key exchange)
#   tls10-mbedtls228         mbedTLS 2.28.3 ssl_client2 force_version=tls1 (nss_keylog) against
#                            openssl s_server -tls1, ECDHE-RSA-AES256-SHA
#   tls13-early-accepted     openssl s_client -sess_out, then -sess_in -early_data: the server
#                            accepts the 0-RTT data (connection 2 of the capture)
#   tls13-early-rejected     the same against a server without -early_data: it rejects the
#                            0-RTT data. NAME.server.keys is the server's key log (no early secret)
set -eu
CACHE=${TLSPCAP_GEN_CACHE:-/var/cache/tlspcap-gen}
CERTS=$CACHE/certs
OUT=testdata/keylog
W=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && cp -r "$W" "$KEEP"; rm -rf "$W"' EXIT
PORT=14090

capture() { # name: starts tcpdump on lo, port $PORT
	tcpdump -i lo -n -U --immediate-mode -Z root -w "$W/$1.pcap" "port $PORT" 2>"$W/tcpdump.log" &
	TD=$!
	until grep -q 'listening on' "$W/tcpdump.log" 2>/dev/null; do sleep 0.05; done
	sleep 0.1
}
finish() { # name
	sleep 0.3
	kill -INT $TD; wait $TD || true
	editcap -F pcapng "$W/$1.pcap" "$OUT/$1.pcapng"
	cp "$W/$1.keys" "$OUT/$1.keys"
}
server() { # name, s_server args...: background s_server in -rev mode (replies with each line reversed)
	n=$1; shift
	timeout 20 openssl s_server -accept 127.0.0.1:$PORT -naccept 1 -rev -cert "$CERTS/leaf.crt" -cert_chain "$CERTS/leaf-inters.crt" -key "$CERTS/leaf.key" -keylogfile "$W/$n.server.keys" "$@" >"$W/$n.server.log" 2>&1 &
	SV=$!
	sleep 0.5
}

# TLS 1.0 and 1.1 with openssl on both ends.
n=tls10-ecdhe-aes128-sha
server $n -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
capture $n
(printf 'ping over TLS 1.0\n'; sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0' -keylogfile "$W/$n.keys" -servername device.test >"$W/$n.client.log" 2>&1 || true
wait $SV || true
finish $n

n=tls11-aes256-sha
server $n -tls1_1 -cipher 'AES256-SHA:@SECLEVEL=0'
capture $n
(printf 'ping over TLS 1.1\n'; sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -tls1_1 -cipher 'AES256-SHA:@SECLEVEL=0' -keylogfile "$W/$n.keys" -servername device.test >"$W/$n.client.log" 2>&1 || true
wait $SV || true
finish $n

# TLS 1.0 from Debian's stock mbedTLS 2.28.3 (library minimum TLS 1.0).
n=tls10-mbedtls228
server $n -tls1 -cipher 'ECDHE-RSA-AES256-SHA:@SECLEVEL=0'
capture $n
timeout 10 "$CACHE/mbedtls-2.28-16384/programs/ssl/ssl_client2" server_addr=127.0.0.1 server_port=$PORT server_name=device.test \
	ca_file="$CERTS/root.crt" force_version=tls1 force_ciphersuite=TLS-ECDHE-RSA-WITH-AES-256-CBC-SHA \
	request_page='/ping-from-mbedtls' nss_keylog=1 nss_keylog_file="$W/$n.keys" read_timeout=2000 >"$W/$n.client.log" 2>&1 || true
kill $SV 2>/dev/null || true
wait $SV || true
finish $n

# TLS 1.3 early data: a first connection stores the session, the second
# resumes it with 0-RTT data (s_server prints what it receives: no -rev,
# which excludes -early_data). For the rejection the second connection goes
# to a new s_server process without -early_data: it cannot decrypt the
# ticket, makes a full handshake and skips the client's 0-RTT records.
early() { # name, then "accept" or "reject"
	n=$1
	naccept=2
	[ "$2" = reject ] && naccept=1
	sleep 12 | timeout 20 openssl s_server -accept 127.0.0.1:$PORT -naccept $naccept -tls1_3 -early_data -cert "$CERTS/leaf.crt" -cert_chain "$CERTS/leaf-inters.crt" -key "$CERTS/leaf.key" -keylogfile "$W/$n.server.keys" >"$W/$n.server1.log" 2>&1 &
	SV=$!
	sleep 0.5
	capture $n
	(printf 'first connection\n'; sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -tls1_3 -sess_out "$W/$n.sess" -keylogfile "$W/$n.keys" -servername device.test >"$W/$n.client1.log" 2>&1 || true
	if [ "$2" = reject ]; then
		kill $SV 2>/dev/null || true
		wait $SV || true
		sleep 12 | timeout 20 openssl s_server -accept 127.0.0.1:$PORT -naccept 1 -tls1_3 -cert "$CERTS/leaf.crt" -cert_chain "$CERTS/leaf-inters.crt" -key "$CERTS/leaf.key" -keylogfile "$W/$n.server.keys" >"$W/$n.server2.log" 2>&1 &
		SV=$!
		sleep 0.5
	fi
	printf 'early data line\n' >"$W/early.txt"
	(sleep 0.5; printf 'after the handshake\n'; sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -tls1_3 -sess_in "$W/$n.sess" -early_data "$W/early.txt" -keylogfile "$W/$n.keys" -servername device.test >"$W/$n.client2.log" 2>&1 || true
	kill $SV 2>/dev/null || true
	wait $SV || true
	finish $n
	cp "$W/$n.server.keys" "$OUT/$n.server.keys"
}
early tls13-early-accepted accept
early tls13-early-rejected reject
ls -l $OUT
