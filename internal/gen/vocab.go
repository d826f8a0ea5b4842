package gen

import "github.com/mailtrail/mailtrail/internal/event"

// Vocabulary. Weights are chosen so that the defaults land on the record
// mix and rates of the benchmark dataset; the values themselves follow
// formats.md (protocol, action and object-type spellings are WorkMail's).

var givenNames = []string{
	"anna", "ben", "carla", "daniel", "elena", "felix", "grace", "hugo", "iris", "jonas",
	"karen", "leo", "maria", "nina", "oscar", "paula", "quinn", "rosa", "samuel", "tara",
	"ursula", "victor", "wendy", "xavier", "yara", "zoe", "akira", "bilal", "chen", "deepa",
	"emeka", "farah", "goran", "hana", "ines", "jun", "kofi", "lucia", "mateo", "noor",
	"olu", "priya", "rahul", "sven", "tomasz", "uma", "vera", "wei", "yusuf", "zainab",
}

var familyNames = []string{
	"adams", "baker", "chowdhury", "dubois", "eriksen", "fischer", "gonzalez", "hoffmann",
	"ibrahim", "jensen", "kowalski", "lee", "moreau", "nakamura", "okafor", "petrov",
	"quintero", "rossi", "schneider", "takahashi", "usman", "vasquez", "wagner", "xu",
	"yamamoto", "zhou", "andersson", "bianchi", "costa", "dimitrov", "evans", "fernandes",
}

// orgDomains are the organizations' mail domains; the account/region/org-id
// triple of each ARN is derived from the seed.
var orgDomains = []string{
	"example.com", "northwind.example", "contoso-labs.example", "fabrikam.example",
	"tailspin.example", "adatum.example", "woodgrove.example", "litware.example",
}

var orgRegions = []string{"us-east-1", "eu-west-1", "us-west-2"}

// Audit protocols (9 values; the two transport ones are rare): event's
// names, as the plain strings the tables hold.
const (
	pAutoDiscover   = string(event.ProtocolAutoDiscover)
	pEWS            = string(event.ProtocolEWS)
	pIMAP           = string(event.ProtocolIMAP)
	pWindowsOutlook = string(event.ProtocolWindowsOutlook)
	pActiveSync     = string(event.ProtocolActiveSync)
	pSMTP           = string(event.ProtocolSMTP)
	pWebMail        = string(event.ProtocolWebMail)
	pIncomingEmail  = string(event.ProtocolIncomingEmail)
	pOutgoingEmail  = string(event.ProtocolOutgoingEmail)
)

// A clientKind is a family of mail clients: the user agents it sends and
// the protocols it speaks, most-used first.
type clientKind struct {
	name   string
	agents []string
	protos table
	mobile bool // roams over the whole address pool, evaluated by device rules
	imap   bool // subject to "block IMAP outside the office" rules
}

var clientKinds = []clientKind{
	{name: "outlook-windows", agents: []string{
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18025; Pro)",
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17726; Pro)",
	}, protos: newTable(pWindowsOutlook, 79, pEWS, 15, pAutoDiscover, 6)},
	{name: "ios", agents: []string{
		"Apple-iPhone16C1/2201.87", "Apple-iPhone15C3/2107.58", "Apple-iPad14C4/2201.87",
	}, protos: newTable(pActiveSync, 95, pAutoDiscover, 5), mobile: true},
	{name: "android", agents: []string{
		"Android-Mail/2025.03.30.741", "Android/15-EAS-2.0", "Outlook-Android/4.2512.1",
	}, protos: newTable(pActiveSync, 95, pAutoDiscover, 5), mobile: true},
	{name: "imap-desktop", agents: []string{
		"Thunderbird/128.4.2", "Thunderbird/115.16.0", "Apple Mail (3826.300.87.4.3)", "eM Client/10.1.4588.0",
	}, protos: newTable(pIMAP, 84, pSMTP, 16), imap: true},
	{name: "browser", agents: []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}, protos: newTable(pWebMail, 90, pEWS, 10)},
	{name: "ews-app", agents: []string{
		"MacOutlook/16.91.24111020 (Intelx64 Mac OS X 15.1.1 (Build 24B91))", "ExchangeServicesClient/15.00.0913.015",
	}, protos: newTable(pEWS, 92, pAutoDiscover, 8)},
}

var clientKindDist = newDist(40, 20, 12, 8, 15, 5)

// Mailbox actions a user performs directly; move_to and copy_to are never
// drawn, they follow their move or copy as the destination-side event.
var mailboxActions = newTable(
	"read_summary", 28.0, "read", 22.0, "read_hierarchy", 14.0, "update_read_state", 10.0,
	"read_attachment", 5.0, "create", 4.0, "update", 4.0, "move", 2.6, "delete", 3.0,
	"submit_email_for_sending", 2.5, "copy", 0.7, "read_permissions", 0.6,
	"update_permissions", 0.1, "abort_sending_email", 0.05,
)

var folderPaths = newTable(
	"/Inbox", 45, "/Sent Items", 10, "/Deleted Items", 6, "/Drafts", 4, "/Inbox/Projects", 5,
	"/Archive", 4, "/Calendar", 4, "/Junk E-mail", 3, "/Inbox/Receipts", 3, "/Inbox/Newsletters", 3,
	"/Inbox/Customers", 3, "/Contacts", 2, "/Inbox/Finance", 2, "/Archive/2024", 2,
	"/Archive/2023", 1.5, "/Tasks", 1, "/Notes", 1, "/Outbox", 0.5,
)

// moveTargets are where users file mail.
var moveTargets = newTable(
	"/Archive", 30, "/Deleted Items", 25, "/Inbox/Projects", 12, "/Inbox/Receipts", 8,
	"/Inbox/Customers", 8, "/Inbox/Finance", 6, "/Archive/2024", 6, "/Junk E-mail", 5,
)

var attachmentNames = []string{
	"invoice.pdf", "contract_v3.docx", "Q3-forecast.xlsx", "scan0042.pdf", "photo.jpg",
	"minutes.docx", "shipping-label.pdf", "roadmap.pptx", "timesheet.xlsx", "resume.pdf",
}

var authFailReasons = newTable(
	"Invalid username or password", 86, "User is disabled", 4, "Password expired", 3,
	"Account is locked", 4, "Invalid personal access token", 3,
)

// Attackers speak the protocols that accept basic auth with no MFA.
var attackProtocols = newTable(pIMAP, 45, pSMTP, 20, pEWS, 15, pActiveSync, 12, pAutoDiscover, 8)

var attackAgents = []string{
	"python-requests/2.32.3", "Go-http-client/1.1", "curl/8.11.0",
	"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1)", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)",
	"BAV2ROPC", "axios/1.7.9",
}

// Usernames attackers guess that are not mailboxes.
var guessedLocals = []string{
	"admin", "administrator", "info", "support", "sales", "hr", "test", "postmaster",
	"billing", "office", "contact", "webmaster",
}

var availErrors = newTable(
	"", 93, "Lambda invocation timed out", 2, "Unauthorized", 1.5,
	"The remote server returned an error: (503) Server Unavailable", 1.5,
	"Requested mailbox was not found", 1, "Connection refused", 1,
)

var externalDomains = newTable(
	"gmail.com", 24, "outlook.com", 14, "yahoo.com", 6, "qq.com", 5.5, "hotmail.com", 6,
	"163.com", 2, "icloud.com", 4, "protonmail.com", 2, "mail.ru", 1.5, "gmx.de", 2,
	"partner-logistics.example", 8, "supplier.example.org", 8, "newsletter.shop.example", 10,
	"bank-notices.example", 3, "university.example.edu", 2.5, "invoices.vendor.example", 2,
)

var subjects = []string{
	"Re: Q3 planning", "Invoice 2025-0412", "Your order has shipped", "Meeting notes",
	"Fwd: contract draft", "Weekly newsletter", "Password reset request", "Re: Re: budget review",
	"Action required: verify your account", "Lunch on Friday?", "Shipment delayed",
	"Re: interview schedule", "Security alert", "Team offsite", "Quarterly report",
	"Re: support ticket #4821", "\"Urgent\" wire transfer", "Out of office: back Monday",
}

var verdicts = []string{"PASS", "FAIL", "GRAY", "PROCESSING_FAILED"}

var spamVerdicts = newDist(90, 7, 2.5, 0.5)
var authVerdicts = newDist(94, 5, 0.5, 0.5)

var inboundRuleActions = newTable("MOVE_TO_JUNK", 40, "BOUNCE", 15, "DROP", 15, "BYPASS_SPAM_CHECK", 20, "DEFAULT", 10)

var bounceReasons = []struct{ status, reason string }{
	{"5.1.1", "Recipient address rejected: user unknown"},
	{"5.2.2", "Mailbox full"},
	{"5.7.1", "Message rejected by recipient's policy"},
	{"4.4.7", "Message expired: unable to deliver in time"},
}

var patScopes = [][]string{{pIMAP}, {pIMAP, pSMTP}, {pEWS}, {pActiveSync}, {pIMAP, pSMTP, pEWS}}

var patNames = []string{"thunderbird-laptop", "phone-mail", "backup-script", "crm-sync", "home-pc", "scanner"}
