/*
 * findings.c - the finding catalogue (see findings.h). One entry per id:
 * add an id here before any rule emits it; a unit test checks that every
 * id a rule or the reply table can produce has an entry, and that every
 * actionable id has advice.
 */
#include "findings.h"

#include <string.h>

#define ADVICE(...) ((const char *const[]){ __VA_ARGS__, NULL })

const struct finding_info finding_catalogue[] = {
	/* The run */
	{ "not-probed", "The host was not probed: the run's deadline (-t) passed before its turn came.",
	  ADVICE("Give the run more time (-t), probe more hosts at once (-j), or give each "
		 "host less (--host-timeout)."), true },
	/* DNS */
	{ "dns-nxdomain", "The server name does not exist in DNS.",
	  ADVICE("Check the spelling of the server name in the mail program; "
		 "the provider's help pages give the exact name."), true },
	{ "dns-servfail", "The DNS server failed to answer for the server name.",
	  ADVICE("Try again later, or ask the provider of the name's DNS to fix it."), true },
	{ "dns-refused", "The DNS server refused to answer for the name.",
	  ADVICE("Check which DNS server the computer uses: it may answer only its own "
		 "network, or hide this name (a split view)."), true },
	{ "dns-timeout", "No DNS answer came for the server name in time.",
	  ADVICE("Check the computer's Internet connection and DNS settings, then try again."), true },
	{ "dns-no-address", "The server name exists but has no address to connect to.",
	  ADVICE("Check the server name; it may be a mail domain rather than the "
		 "name of the outgoing server."), true },
	{ "dns-failed", "The server name could not be looked up.",
	  ADVICE("Check the server name and the computer's Internet connection."), true },
	{ "dns-srv-found", "The mail domain names its submission servers in DNS (SRV records, RFC 6186 and RFC 8314).",
	  NULL, false },
	{ "dns-srv-missing", "The mail domain names no submission server in DNS (no SRV records): the servers probed are the usual names, a guess.",
	  ADVICE("Take the outgoing server's name from the provider's help pages rather "
		 "than from this guess.",
		 "Providers: publish _submissions._tcp and _submission._tcp SRV records so "
		 "that mail programs find the server themselves."), true },
	{ "dns-srv-failed", "An SRV question for mail submission got no answer (SERVFAIL, REFUSED, timeout): whether the domain names a submission server is unknown.",
	  ADVICE("Try again later, or ask another resolver: a SERVFAIL often means broken "
		 "DNSSEC or name servers that do not answer.",
		 "The domain's DNS administrator must repair the zone so that mail programs "
		 "can find the server themselves."), true },
	{ "dns-mx-failed", "The MX question for the domain got no answer (SERVFAIL, REFUSED, timeout): its mail hosts are unknown.",
	  ADVICE("The domain's DNS administrator must repair the zone (often its DNSSEC "
		 "signatures): senders whose resolvers fail alike cannot deliver mail to it."),
	  true },
	{ "dns-srv-disabled", "An SRV record with the target '.' says that this kind of submission is not offered.",
	  NULL, false },
	{ "dns-srv-target-unresolved", "An SRV record names a server that has no address in DNS.",
	  ADVICE("The domain's DNS administrator must correct the SRV record or add the "
		 "server's A/AAAA records; mail programs that follow SRV find no server."), true },
	{ "dns-mx-unresolved", "An MX record names a host that has no address in DNS.",
	  ADVICE("The domain's DNS administrator must correct the MX record or add the "
		 "host's A/AAAA records; other servers cannot deliver mail to it."), true },
	{ "dns-mx-not-probed", "The domain has more MX hosts than smtpcheck probes: those beyond the limit were not checked.",
	  NULL, false },
	{ "dns-mx-missing", "The domain has no MX record.",
	  ADVICE("If the domain receives mail, its DNS needs an MX record naming the "
		 "receiving server."), true },
	{ "dns-mx-null", "The domain publishes a null MX (RFC 7505): it receives no mail.",
	  NULL, false },
	{ "dns-tlsa-failed", "The TLSA lookup for an MX host failed (SERVFAIL, timeout): senders that use DANE hold mail for the domain.",
	  ADVICE("The domain's DNS administrator must repair the DNSSEC signing or the "
		 "name servers of the MX host's zone."), true },
	{ "dane-ok", "The certificate on port 25 matches a TLSA record (DANE, RFC 7672).",
	  NULL, false },
	{ "dane-mismatch", "Port 25 has TLSA records, but the server's TLS does not satisfy them: senders that use DANE will not deliver.",
	  ADVICE("Publish a TLSA record for the certificate in use (best: 3 1 1, the hash "
		 "of its public key), keep the old record until the new one has spread, "
		 "and only then change certificates.",
		 "If the records are stale and DANE is not wanted, remove them."), true },
	{ "rdns-ok", "The address has a reverse DNS name that resolves back to it (FCrDNS).",
	  NULL, false },
	{ "rdns-missing", "The address has no reverse DNS name (PTR record).",
	  ADVICE("Ask the owner of the address (the hosting or access provider) for a PTR "
		 "record naming the server; receiving servers distrust mail from "
		 "addresses without one."), true },
	{ "rdns-mismatch", "The address's reverse DNS name does not resolve back to it, or differs from the name in the greeting.",
	  ADVICE("Make the PTR name, its A/AAAA record and the server's own name agree; "
		 "receiving servers check that they do."), true },

	/* connecting */
	{ "port-refused", "Nothing accepts connections on this port, or a firewall rejects them.",
	  ADVICE("Use one of the ports that answer (see the recommended settings)."), true },
	{ "port-unreachable", "The network says the server cannot be reached.",
	  ADVICE("Check the Internet connection; if only this port fails, use another one."), true },
	{ "port-timeout", "Connecting to this port got no answer at all: a firewall drops it, or the host is down.",
	  ADVICE("Use one of the ports that answer; a firewall on the way may drop this one."), true },
	{ "port25-blocked", "Port 25 cannot be reached while the submission ports work: typical of an access provider that blocks port 25 against spam.",
	  ADVICE("Send through port 587 (STARTTLS) or 465 (SSL/TLS) with authentication "
		 "instead of port 25."), true },
	{ "connection-failed", "The mail program could not connect to the outgoing server.",
	  ADVICE("Check the server name and port; run smtpcheck against the server to see "
		 "which ports answer."), true },
	{ "session-timeout", "The server accepted the connection but stopped answering.",
	  ADVICE("Try again later; if it persists, the server or a filter in between is "
		 "holding the session."), true },
	{ "connection-lost", "The server closed or reset the connection in the middle of the session.",
	  ADVICE("Try again; if it persists, a firewall or virus scanner may be cutting "
		 "the connection, or the port expects a different security mode."), true },
	{ "not-smtp", "Something answers on this port, but it does not speak SMTP.",
	  ADVICE("Use the mail server's SMTP port (587, 465 or 25)."), true },
	{ "protocol-violation", "The server's replies break the SMTP rules.", NULL, false },
	{ "reply-format", "The server's replies bend the SMTP format (bare line feeds or overlong lines).",
	  NULL, false },

	/* greeting */
	{ "greeting-refused", "The server refused the session in its greeting (554).",
	  ADVICE("Read the server's text: it usually names a block list or a policy; "
		 "ask the provider to allow this address."), true },
	{ "server-busy", "The server is busy or temporarily refusing connections (421).",
	  ADVICE("Retry later.", "If it persists, ask the provider whether this address "
		 "is being throttled."), true },
	{ "rate-limited", "The server is limiting how often this address may connect or send (421/450/451 with 4.7.x).",
	  ADVICE("Retry later; do not retry in a tight loop.",
		 "If it persists, ask the provider to allow this address or raise its limit."), true },
	{ "greeting-delayed", "The server waits on purpose before greeting, a common spam defence.",
	  NULL, false },
	{ "client-blocked", "The server refuses this client's address: it is on a block list or banned.",
	  ADVICE("Send through the provider's authenticated submission port (587 or 465) "
		 "instead of port 25.",
		 "Ask the provider, or the block list named in the reply, to delist the address."),
	  true },

	/* TLS */
	{ "starttls-available", "The port offers STARTTLS and the upgrade to TLS works.", NULL, false },
	{ "starttls-missing", "The port does not offer STARTTLS: the session stays unencrypted.",
	  ADVICE("Do not choose STARTTLS for this port; use a port that offers TLS "
		 "(see the recommended settings)."), true },
	{ "starttls-failed", "The port offers STARTTLS, but the upgrade to TLS fails.",
	  ADVICE("Use the other TLS port (465 with SSL/TLS) until the provider fixes STARTTLS."),
	  true },
	{ "starttls-injection", "Clear text was mixed into the STARTTLS upgrade, a known attack path (CVE-2011-0411 class).",
	  ADVICE("Ask the provider to update the server; meanwhile prefer implicit TLS on 465."),
	  true },
	{ "starttls-injection-inconclusive", "The STARTTLS injection test (--injection-test) could not tell whether the server runs commands sent in clear before the upgrade.",
	  NULL, false },
	{ "implicit-tls-available", "The port speaks TLS from the first byte (SSL/TLS) and it works.",
	  NULL, false },
	{ "tls-handshake-failed", "The TLS handshake on this port fails.",
	  ADVICE("Use another port, or ask the provider to fix the server's TLS setup."), true },
	{ "tls-protocol-old", "The server uses a TLS version older than 1.2, which current programs refuse.",
	  ADVICE("Ask the provider to enable TLS 1.2 or 1.3."), true },
	{ "tls-mode-mismatch", "The port speaks a different TLS mode than the one chosen: SSL/TLS (implicit TLS) and STARTTLS are not interchangeable.",
	  ADVICE("Use SSL/TLS with port 465 and STARTTLS with port 587 (or 25), as the "
		 "recommended settings say."), true },
	{ "tls-required", "The server accepts this command only over an encrypted connection.",
	  ADVICE("Turn on encryption: STARTTLS on port 587 or SSL/TLS on port 465."), true },

	/* certificates */
	{ "cert-expired", "The server's certificate has expired.",
	  ADVICE("The provider must renew the certificate; until then mail programs will "
		 "refuse or warn."), true },
	{ "cert-not-yet-valid", "The server's certificate is not valid yet (or a clock is wrong).",
	  ADVICE("Check the computer's date and time."), true },
	{ "cert-expiring", "The server's certificate expires soon.",
	  ADVICE("The provider should renew the certificate before it expires."), true },
	{ "cert-untrusted", "The server's certificate is not signed by a trusted authority.",
	  ADVICE("Do not accept the certificate permanently in the mail program; ask the "
		 "provider for a certificate from a public authority."), true },
	{ "cert-hostname-mismatch", "The server's certificate is made out for another name.",
	  ADVICE("Use the server name that the certificate names (see the certificate's "
		 "names), or ask the provider which name to use."), true },
	{ "cert-invalid", "The server's certificate fails verification.",
	  ADVICE("Ask the provider to fix the certificate."), true },

	/* authentication */
	{ "auth-offered", "The port offers SMTP authentication.", NULL, false },
	{ "auth-not-offered", "The port offers no SMTP authentication.", NULL, false },
	{ "auth-only-after-tls", "Authentication is offered only once the connection is encrypted.",
	  NULL, false },
	{ "auth-cleartext", "Authentication is offered without encryption: passwords could cross the network readable.",
	  ADVICE("Choose STARTTLS or SSL/TLS in the mail program so the password is encrypted."),
	  true },
	{ "auth-ok", "The server accepted the user name and password.", NULL, false },
	{ "auth-failed", "The server rejected the user name or the password (535).",
	  ADVICE("Check the password, and the user name: some servers want the full e-mail "
		 "address, others only the part before the @.",
		 "Turn \"Secure Password Authentication\" (SPA) off."), true },
	{ "auth-username-form", "The server accepts the user name in one form only: the full e-mail address, or the part before the @.",
	  ADVICE("Enter the user name in the form the recommended settings give."), true },
	{ "auth-app-password", "The server wants an application-specific password, not the account password (534 5.7.9).",
	  ADVICE("Create an app password in the provider's account security settings and "
		 "use it in the mail program."), true },
	{ "auth-web-login", "The provider wants the account to sign in through its web page first (534 5.7.14).",
	  ADVICE("Sign in to the provider's web mail once, confirm the security prompt, then "
		 "try again; an app password may be needed."), true },
	{ "auth-disabled", "Password authentication for sending is switched off for this account or organisation.",
	  ADVICE("Ask the mail administrator to enable SMTP authentication for the mailbox, "
		 "or use a program that signs in with OAuth."), true },
	{ "auth-basic-disabled", "The provider no longer accepts passwords for sending (basic authentication is retired); only OAuth sign-in works.",
	  ADVICE("Use a mail program that signs in with OAuth (modern Outlook, Thunderbird), "
		 "or the provider's own app."), true },
	{ "auth-temporary-failure", "The server could not check the password just now (454).",
	  ADVICE("Retry later; if it persists, the provider's login service has a problem."),
	  true },
	{ "auth-mechanism-unsupported", "The mail program and the server have no authentication method in common.",
	  ADVICE("Choose plain password authentication (\"Normal password\") over an "
		 "encrypted connection, and turn \"Secure Password Authentication\" (SPA) off."),
	  true },
	{ "auth-mechanism-broken", "The server advertises an authentication method that does not work.",
	  ADVICE("Choose one of the methods that worked (see the port's AUTH list)."), true },
	{ "auth-skipped", "Credentials were not tried on this port.", NULL, false },
	{ "spa-off", "The server offers no NTLM (Microsoft SPA) login: \"Secure Password Authentication\" must be off.",
	  ADVICE("Leave \"Secure Password Authentication\" (SPA) unticked."), true },
	{ "spa-not-supported", "The mail program tried \"Secure Password Authentication\" (NTLM), which the server does not support.",
	  ADVICE("Turn \"Secure Password Authentication\" (SPA) off in the account's settings."),
	  true },
	{ "auth-required", "The server sends mail on only for users who log in (530, or 550/554 5.7.x without authentication).",
	  ADVICE("Turn on \"My outgoing server (SMTP) requires authentication\" (the label "
		 "varies by program) and enter the user name and password."), true },

	/* relay and envelope */
	{ "relay-denied", "The server refuses to pass mail on to another domain for a sender who has not logged in.",
	  ADVICE("Turn on \"My outgoing server (SMTP) requires authentication\" (the label "
		 "varies by program) and use the provider's outgoing server."), true },
	{ "relay-denied-after-auth", "Even after logging in, the server refuses to pass mail on to another domain.",
	  ADVICE("Ask the provider: the account may not be allowed to send to other domains."),
	  true },
	{ "open-relay", "The server passes mail on for anyone without authentication: spammers can abuse it.",
	  ADVICE("The administrator must restrict relaying to authenticated users and own "
		 "networks at once."), true },
	{ "relay-ok", "After logging in, the server accepts mail for another domain, as it should.",
	  NULL, false },
	{ "sender-rejected", "The server refuses the sender address (553, 5.7.60 send-as denied, 5.1.8, 5.1.7).",
	  ADVICE("Send from the address that belongs to the account you log in with, and "
		 "check the address in the account settings."), true },
	{ "recipient-unknown", "The recipient's mailbox does not exist (550 5.1.1).",
	  ADVICE("Check the recipient's address for typing errors."), true },
	{ "mailbox-full", "The recipient's mailbox is full.",
	  ADVICE("Tell the recipient another way, or try again later."), true },
	{ "message-too-large", "The message is larger than the server accepts (552 5.3.4).",
	  ADVICE("Send smaller attachments, or share large files through a link."), true },
	{ "sender-policy", "The receiving server rejected the message because the sender's domain failed its SPF, DKIM or DMARC check.",
	  ADVICE("Send through the provider's own outgoing server with authentication; the "
		 "domain owner may need to fix SPF/DKIM/DMARC records."), true },
	{ "message-rejected", "The receiving server rejected the message's content as spam or unsafe.",
	  ADVICE("Check the message for links or attachments that look like spam, or contact "
		 "the recipient's provider."), true },
	{ "command-rejected", "The server did not accept a command (500-504).", NULL, false },
	{ "temporary-failure", "The server reports a temporary failure (4xx): trying again later may work.",
	  ADVICE("Retry later."), true },
	{ "permanent-failure", "The server reports a permanent failure (5xx): the same attempt will fail again.",
	  ADVICE("Read the server's text; it names the reason."), true },
	{ "accepted", "The server accepted the command.", NULL, false },

	/* the whole host */
	{ "submission-ok", "Mail can be submitted securely through this server.", NULL, false },
	{ "no-submission-path", "No port offers a working way to submit mail.",
	  ADVICE("Each port's reason is named here and has a finding of its own in this "
		 "report, with what to do about it; one port that works is enough."), true },
	{ "no-secure-path", "Mail can be submitted only without encryption.",
	  ADVICE("Ask the provider to offer STARTTLS on 587 or SSL/TLS on 465."), true },
	{ "response-time", "A port took longer to answer than the time threshold.", NULL, false },
	{ NULL, NULL, NULL, false },
};

const struct finding_info *finding_lookup(const char *id)
{
	for (const struct finding_info *f = finding_catalogue; f->id; f++)
		if (!strcmp(f->id, id))
			return f;
	return NULL;
}
