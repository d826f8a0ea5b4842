package postfixlog

import (
	"fmt"
	"net"
	"strings"
)

// SnippetOptions choose what ConfigSnippet prints: the log file mailtrail
// follows, and/or the syslog address it listens on.
type SnippetOptions struct {
	LogFile    string // Postfix maillog_file that Follow reads ("" = none)
	SyslogTCP  string // host:port of the TCP syslog listener ("" = none)
	SyslogUDP  string // host:port of the UDP syslog listener ("" = none)
	Checkpoint string // where Follow saves its position (informational)
}

// ConfigSnippet returns the Postfix (main.cf / master.cf) and rsyslog lines
// that send Postfix's log to mailtrail (for `mailtrail config postfix`).
func ConfigSnippet(o SnippetOptions) (string, error) {
	var b strings.Builder
	if o.LogFile != "" {
		fmt.Fprintf(&b, "# mailtrail follows Postfix's own log file (Postfix >= 3.4, postlogd)\n")
		fmt.Fprintf(&b, "maillog_file = %s\n", o.LogFile)
		b.WriteString("# master.cf needs the postlog service (stock since 3.4):\n")
		b.WriteString("#   postlog   unix-dgram n  -  n  -  1  postlogd\n")
		b.WriteString("# rotation: `postfix logrotate` or logrotate (rename or copytruncate) are both followed\n")
		if o.Checkpoint != "" {
			fmt.Fprintf(&b, "# mailtrail saves its position in %s\n", o.Checkpoint)
		}
	}
	for _, x := range []struct{ addr, proto, extra string }{
		{o.SyslogTCP, "tcp", ` TCP_Framing="octet-counted"`},
		{o.SyslogUDP, "udp", ""},
	} {
		if x.addr == "" {
			continue
		}
		host, port, err := net.SplitHostPort(x.addr)
		if err != nil {
			return "", fmt.Errorf("syslog %s address %q: %w", x.proto, x.addr, err)
		}
		fmt.Fprintf(&b, "# rsyslog (/etc/rsyslog.d/50-mailtrail.conf): forward Postfix's log over %s\n", strings.ToUpper(x.proto))
		fmt.Fprintf(&b, "if $programname startswith \"postfix\" then action(type=\"omfwd\" target=%q port=%q protocol=%q%s template=\"RSYSLOG_ForwardFormat\")\n",
			host, port, x.proto, x.extra)
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("nothing to configure: no log file and no syslog address")
	}
	return b.String(), nil
}
