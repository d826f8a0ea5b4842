package dovecot

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/mailtrail/mailtrail/internal/event"
)

// imapCommand appends the mailbox activities of one imap_command_finished
// event. The table (also in the package documentation):
//
//	SELECT, EXAMINE, STATUS        read_summary  Folder
//	SEARCH, SORT, THREAD           read_summary  Folder
//	LIST, LSUB, XLIST              read_hierarchy Folder "/"
//	FETCH with a body part         read          Message
//	FETCH of flags/envelope only   read_summary  Message
//	APPEND                         create        Message
//	STORE +FLAGS \Seen, -FLAGS \Seen update_read_state Message
//	STORE +FLAGS/FLAGS \Deleted    delete        Message
//	STORE other flags, -\Deleted   update        Message
//	COPY                           copy Message (source) + copy_to Folder (destination)
//	MOVE                           move Message (source) + move_to Folder (destination)
//	EXPUNGE                        delete        Message
//	CREATE / DELETE                create / delete Folder
//	RENAME                         update Folder (old path, new folder's id)
//	GETACL, MYRIGHTS, LISTRIGHTS   read_permissions Folder
//	SETACL, DELETEACL              update_permissions Folder
//
// A command answered BAD (a syntax error: nothing was attempted) or not
// answered at all yields nothing; NO yields records with action_allowed
// false. The UID variants are the same commands.
func imapCommand(dst []Activity, ev *Event, userAgent string) []Activity {
	f := &ev.Fields
	state := strings.ToUpper(string(f.TaggedReplyState))
	if state != "OK" && state != "NO" {
		return dst
	}
	session, user := string(f.Session), string(f.User)
	if session == "" || user == "" {
		return dst
	}
	name := strings.ToUpper(strings.TrimSpace(string(f.CmdName)))
	isUID := strings.HasPrefix(name, "UID ")
	name = strings.TrimPrefix(name, "UID ")
	args := imapTokens(string(f.CmdArgs))
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	mailbox := string(f.Mailbox)
	base := Activity{
		Kind: KindMailbox, Time: ev.End, Session: session, Service: "imap",
		Login: user, SourceIP: string(f.RemoteIP), Allowed: state == "OK", UserAgent: userAgent,
	}
	// Ids of command records: the command (tag and start time make it
	// unique within the session) and the record's place among its records.
	n := 0
	add := func(action event.MailboxAction, obj event.ObjectType, folder, item string) *Activity {
		a := base
		a.Action, a.ObjectType, a.Folder, a.ItemID = action, obj, folder, item
		a.ID = RequestID("dovecot-imap", session, string(f.CmdTag), string(ev.StartTime), name, string(action), strconv.Itoa(n))
		n++
		if a.Allowed {
			a.OpKey = OpKey(session, action, obj, folder)
		}
		dst = append(dst, a)
		return &dst[len(dst)-1]
	}
	// folderOp gives a successful folder operation the id the log path
	// computes for the same change (Mailbox created: X, ...).
	folderOp := func(a *Activity) {
		if a.Allowed {
			a.ID = FolderOpID(session, a.Action, a.Folder)
		}
	}
	set := arg(0)
	item := func(folder string) string {
		if set == "" {
			return ""
		}
		if isUID {
			return itemID("", folder, set)
		}
		return folder + ";SEQ=" + set
	}

	switch name {
	case "SELECT", "EXAMINE":
		add(event.ActionReadSummary, event.ObjectFolder, firstNonEmpty(mailbox, decodeMailbox(arg(0))), "")
	case "STATUS":
		add(event.ActionReadSummary, event.ObjectFolder, firstNonEmpty(mailbox, decodeMailbox(arg(0))), "")
	case "SEARCH", "SORT", "THREAD":
		add(event.ActionReadSummary, event.ObjectFolder, mailbox, "")
	case "LIST", "LSUB", "XLIST":
		add(event.ActionReadHierarchy, event.ObjectFolder, "/", "")
	case "FETCH":
		action := event.ActionReadSummary
		if fetchesBody(string(f.CmdArgs)) {
			action = event.ActionRead
		}
		a := add(action, event.ObjectMessage, mailbox, item(mailbox))
		if a.Allowed {
			a.SummaryKey = SummaryKey(session, action)
		}
	case "APPEND":
		box := firstNonEmpty(mailbox, decodeMailbox(arg(0)))
		add(event.ActionCreate, event.ObjectMessage, box, itemID("", box, appendUID(string(f.TaggedReply))))
	case "STORE":
		for _, action := range storeActions(args[min(1, len(args)):]) {
			add(action, event.ObjectMessage, mailbox, item(mailbox))
		}
	case "COPY", "MOVE":
		dest := decodeMailbox(arg(1))
		from, to := event.ActionCopy, event.ActionCopyTo
		if name == "MOVE" {
			from, to = event.ActionMove, event.ActionMoveTo
		}
		add(from, event.ObjectMessage, mailbox, item(mailbox))
		add(to, event.ObjectFolder, dest, "")
	case "EXPUNGE":
		it := ""
		if isUID {
			it = item(mailbox)
		}
		add(event.ActionDelete, event.ObjectMessage, mailbox, it)
	case "CREATE":
		folderOp(add(event.ActionCreate, event.ObjectFolder, firstNonEmpty(mailbox, decodeMailbox(arg(0))), ""))
	case "DELETE":
		a := add(event.ActionDelete, event.ObjectFolder, firstNonEmpty(mailbox, decodeMailbox(arg(0))), "")
		folderOp(a)
		if a.Allowed {
			// Deleting a mailbox expunges its messages first; the log
			// reports each, the exporter only the command.
			a.OpKey = OpKey(session, event.ActionDelete, event.ObjectMessage, a.Folder)
		}
	case "RENAME":
		old := firstNonEmpty(string(f.OldMailbox), decodeMailbox(arg(0)))
		nw := firstNonEmpty(string(f.NewMailbox), decodeMailbox(arg(1)))
		a := add(event.ActionUpdate, event.ObjectFolder, old, "")
		a.FolderIDName = nw
		folderOp(a)
	case "GETACL", "MYRIGHTS", "LISTRIGHTS":
		add(event.ActionReadPermissions, event.ObjectFolder, decodeMailbox(arg(0)), "")
	case "SETACL", "DELETEACL":
		add(event.ActionUpdatePermissions, event.ObjectFolder, decodeMailbox(arg(0)), "")
	}
	return dst
}

// fetchesBody reports whether FETCH arguments ask for message content
// (BODY[...], BODY.PEEK[...], BINARY[...], RFC822, RFC822.TEXT) rather than
// only flags, envelope, structure or sizes.
func fetchesBody(args string) bool {
	u := strings.ToUpper(args)
	if strings.Contains(u, "BODY[") || strings.Contains(u, "BODY.PEEK[") || strings.Contains(u, "BINARY[") || strings.Contains(u, "BINARY.PEEK[") {
		return true
	}
	u = strings.ReplaceAll(u, "RFC822.SIZE", "")
	u = strings.ReplaceAll(u, "RFC822.HEADER", "")
	return strings.Contains(u, "RFC822")
}

// storeActions maps STORE's "op (flags)" to actions: \Seen changes the read
// state, setting \Deleted deletes, anything else (other flags, keywords,
// clearing \Deleted) updates.
func storeActions(args []string) []event.MailboxAction {
	if len(args) > 0 && strings.HasPrefix(args[0], "(") { // (UNCHANGEDSINCE n)
		for len(args) > 0 {
			last := args[0]
			args = args[1:]
			if strings.HasSuffix(last, ")") {
				break
			}
		}
	}
	if len(args) == 0 {
		return []event.MailboxAction{event.ActionUpdate}
	}
	op := strings.ToUpper(args[0])
	remove := strings.HasPrefix(op, "-")
	var seen, deleted, other bool
	for _, fl := range args[1:] {
		switch strings.ToLower(strings.Trim(fl, "()")) {
		case "":
		case `\seen`:
			seen = true
		case `\deleted`:
			deleted = true
		default:
			other = true
		}
	}
	var out []event.MailboxAction
	if deleted && !remove {
		out = append(out, event.ActionDelete)
	}
	if seen {
		out = append(out, event.ActionUpdateReadState)
	}
	if other || (deleted && remove) || len(out) == 0 {
		out = append(out, event.ActionUpdate)
	}
	return out
}

// appendUID takes the UID out of an APPEND reply's [APPENDUID validity uid].
func appendUID(reply string) string {
	i := strings.Index(strings.ToUpper(reply), "[APPENDUID ")
	if i < 0 {
		return ""
	}
	rest := reply[i+len("[APPENDUID "):]
	j := strings.IndexByte(rest, ']')
	if j < 0 {
		return ""
	}
	parts := strings.Fields(rest[:j])
	if len(parts) != 2 {
		return ""
	}
	return parts[1]
}

// imapTokens splits IMAP command arguments as Dovecot logs them
// (cmd_args): atoms, "quoted strings" (unquoted here), parenthesised lists
// split into their members with the parentheses kept on the first and last,
// and literals, which Dovecot shows as <N byte literal>.
func imapTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '"':
			var b strings.Builder
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++ // closing quote (or end)
			out = append(out, b.String())
		case c == '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				out = append(out, s[i:])
				return out
			}
			out = append(out, s[i:i+j+1])
			i += j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

// decodeMailbox decodes an IMAP mailbox name from modified UTF-7 (RFC 3501
// §5.1.3): "&-" is "&", "&...-" is modified base64 of UTF-16. Names that do
// not decode are returned as they are.
func decodeMailbox(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			b.WriteByte(s[i])
			continue
		}
		j := strings.IndexByte(s[i:], '-')
		if j < 0 {
			return s
		}
		enc := s[i+1 : i+j]
		i += j
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.ReplaceAll(enc, ",", "/"))
		if err != nil || len(raw)%2 != 0 {
			return s
		}
		u := make([]uint16, len(raw)/2)
		for k := range u {
			u[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		b.WriteString(string(utf16.Decode(u)))
	}
	return b.String()
}

// idUserAgent makes a user agent of IMAP ID parameters, as cmd_args shows
// them (("name" "Thunderbird" "version" "115.11.0")) or as Dovecot's
// imap_id_log writes them (name=Thunderbird, version=115.11.0): "name/
// version", or whichever of the two is there. NIL and empty give "".
func idUserAgent(args string) string {
	var name, version string
	if strings.Contains(args, "=") && !strings.HasPrefix(strings.TrimSpace(args), "(") {
		for _, part := range strings.Split(args, ", ") {
			k, v, _ := strings.Cut(part, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "name":
				name = v
			case "version":
				version = v
			}
		}
	} else {
		toks := imapTokens(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(args), "("), ")"))
		for i := 0; i+1 < len(toks); i += 2 {
			switch strings.ToLower(toks[i]) {
			case "name":
				name = toks[i+1]
			case "version":
				version = toks[i+1]
			}
		}
	}
	if strings.EqualFold(name, "NIL") {
		name = ""
	}
	if strings.EqualFold(version, "NIL") {
		version = ""
	}
	switch {
	case name != "" && version != "":
		return clip(name+"/"+version, 256)
	case name != "":
		return clip(name, 256)
	}
	return clip(version, 256)
}
