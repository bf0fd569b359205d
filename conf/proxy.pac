// proxy.pac: the sample proxy auto-config (PAC) file of connectproxy, an
// HTTP CONNECT proxy.  With `pac_file` pointing at it, connectproxy serves
// it at http://PROXY:PORT/proxy.pac and /wpad.dat; any web server can too,
// as Content-Type application/x-ns-proxy-autoconfig.
//
// Edit PROXY below: the name or address and the port the clients reach
// the proxy on (its `listen` address on the LAN).  A reload (HUP) makes
// connectproxy serve the edited file; browsers read it again when they
// start or when their network changes.
//
// What it says, for a CONNECT-only proxy:
//
// - https:// and wss:// go through the proxy: a browser opens them with
//   CONNECT, the one thing connectproxy forwards.  The proxy still
//   applies its rules (allow_port is 443 alone by default: an
//   https://host:8443/ URL then gets 403 unless allow_port lists 8443).
//
// - Plain http:// (and ws://, ftp://) goes DIRECT.  A CONNECT-only proxy
//   cannot carry it: given plain HTTP, a browser sends the proxy
//   "GET http://...", which connectproxy answers with 405.  DIRECT means
//   those requests leave from each client straight to the site, without
//   the proxy: unproxied, unfiltered and unlogged by it, and seen in
//   clear text on the way.  If plain HTTP must not leave the office,
//   block it at the firewall (port 80 outbound): then http:// pages fail
//   instead of going around the proxy.
//
// - Names without a dot, localhost, *.local and literal loopback,
//   private and link-local addresses go DIRECT: the proxy refuses such
//   destinations anyway (its built-in denials), and a LAN machine
//   reaches them without it.  No rule here resolves a name (isInNet()
//   on a name would ask DNS for every URL): only literal addresses are
//   matched.
//
// - When the proxy cannot be reached, HTTPS fails (fail closed).  To let
//   clients go direct instead, make PROXY "PROXY host:3128; DIRECT": then
//   HTTPS goes around the proxy whenever it is down.

var PROXY = "PROXY proxy.office.lan:3128";

// A dotted-quad literal, such as 192.168.1.20.
function isIPv4Literal(host) {
	return /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function isLocal(host) {
	var h = host.toLowerCase().replace(/^\[|\]$/g, "");

	// IPv6 literals (with or without brackets): loopback, ULA,
	// link-local.
	if (h.indexOf(":") >= 0)
		return h == "::1" || shExpMatch(h, "fc*:*") ||
		    shExpMatch(h, "fd*:*") || shExpMatch(h, "fe8*:*") ||
		    shExpMatch(h, "fe9*:*") || shExpMatch(h, "fea*:*") ||
		    shExpMatch(h, "feb*:*");
	if (isIPv4Literal(h))
		return isInNet(h, "127.0.0.0", "255.0.0.0") ||
		    isInNet(h, "10.0.0.0", "255.0.0.0") ||
		    isInNet(h, "172.16.0.0", "255.240.0.0") ||
		    isInNet(h, "192.168.0.0", "255.255.0.0") ||
		    isInNet(h, "169.254.0.0", "255.255.0.0") ||
		    isInNet(h, "100.64.0.0", "255.192.0.0");
	return isPlainHostName(h) || h == "localhost" ||
	    dnsDomainIs(h, ".localhost") || dnsDomainIs(h, ".local");
}

function FindProxyForURL(url, host) {
	var u = url.toLowerCase();

	if (isLocal(host))
		return "DIRECT";
	if (u.substring(0, 6) == "https:" || u.substring(0, 4) == "wss:")
		return PROXY;
	// Plain HTTP and the rest: direct, unproxied (see above).
	return "DIRECT";
}
