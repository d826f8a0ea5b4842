package filterpattern

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// msg returns an inline message, or the contents of testdata/<name> when
// it starts with '@'.
func msg(t testing.TB, m string) []byte {
	t.Helper()
	if !strings.HasPrefix(m, "@") {
		return []byte(m)
	}
	b, err := os.ReadFile(filepath.Join("testdata", m[1:]))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.TrimRight(string(b), "\n"))
}

type matchCase struct {
	pattern string
	msg     string
	want    bool
}

func runMatch(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		p, err := Compile(c.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.pattern, err)
			continue
		}
		m := msg(t, c.msg)
		if got := p.Match(m); got != c.want {
			t.Errorf("Compile(%q).Match(%.80q) = %v, want %v", c.pattern, c.msg, got, c.want)
		}
		if got := p.MatchString(string(m)); got != c.want {
			t.Errorf("Compile(%q).MatchString(%.80q) = %v, want %v", c.pattern, c.msg, got, c.want)
		}
		if p.kind == JSON { // the prefilter must not change the answer
			st := p.get()
			st.paths, st.exists = p.json.paths, p.json.exists
			full := st.resolve(m) && p.json.root.eval(st)
			p.put(st)
			if full != c.want {
				t.Errorf("Compile(%q) without prefilter on %.80q = %v, want %v", c.pattern, c.msg, full, c.want)
			}
		}
	}
}

// Part D.1 and the AWS documentation examples for unstructured terms.
func TestTerms(t *testing.T) {
	const (
		m1 = "ERROR WARN message"
		m2 = "ERROR message"
		m3 = "WARN message"
	)
	runMatch(t, []matchCase{
		{"", "anything", true},
		{"   ", "anything", true},
		{`" "`, "nospace", true},
		{`""`, "", true},
		{"ERROR", "[ERROR] A fatal exception has occurred", true},
		{"ERROR", "Exiting with ERRORCODE: -1", true}, // substring, as AWS documents
		{"ERROR", "error in lower case", false},       // case-sensitive
		{`"ERROR" - "Exiting"`, "Exiting with ERRORCODE: -1", false},
		{`"ERROR" - "Exiting"`, "[ERROR] A fatal exception has occurred", true},
		{"ERROR Exception", "[ERROR] Caught IllegalArgumentException", true},
		{"ERROR Exception", "[ERROR] Unhandled Exception", true},
		{"ERROR Exception", "Exception without level", false},
		{"ERROR ARGUMENTS", "ARGUMENTS were wrong: ERROR", true}, // any order
		{`"INTERNAL SERVER ERROR"`, "500 INTERNAL SERVER ERROR at /x", true},
		{`"INTERNAL SERVER ERROR"`, "INTERNAL ERROR SERVER", false},
		{`"Failed to process the request"`, "[WARN] Failed to process the request", true},
		{"ERROR", m1, true}, {"ERROR", m2, true}, {"ERROR", m3, false},
		{"?ERROR ?WARN", m1, true}, {"?ERROR ?WARN", m2, true}, {"?ERROR ?WARN", m3, true},
		{"?ERROR ?WARN", "INFO message", false},
		{"ERROR WARN", m1, true}, {"ERROR WARN", m2, false}, {"ERROR WARN", m3, false},
		{"ERROR -WARN", m1, false}, {"ERROR -WARN", m2, true}, {"ERROR -WARN", m3, false},
		{"-WARN", m2, true}, {"-WARN", m3, false},
		// Plain terms before the first ? are required by every group.
		{"message ?ERROR ?WARN", m3, true},
		{"message ?ERROR ?WARN", "ERROR only", false},
		// Plain terms after a ? join its group (the AWS CDK's anyTermGroup).
		{`?"ERROR" "MainThread" ?"WARN" "Deadlock"`, "ERROR in MainThread", true},
		{`?"ERROR" "MainThread" ?"WARN" "Deadlock"`, "WARN Deadlock detected", true},
		{`?"ERROR" "MainThread" ?"WARN" "Deadlock"`, "ERROR Deadlock", false},
		{`?"ERROR" "MainThread" ?"WARN" "Deadlock" -ignore`, "ERROR in MainThread ignore", false},
		// Quoting: special characters, escapes, '*' is literal in terms.
		{`"user=jane.doe@example.com"`, `login user=jane.doe@example.com ok`, true},
		{`"say \"hi\""`, `they say "hi" twice`, true},
		{`"a*b"`, `a*b`, true},
		{`"a*b"`, `axxb`, false},
		{`"auth_successful\":false"`, "@workmail-auth-failed.json", true},
		// Regex terms.
		{`%ERROR\d{3}%`, "got ERROR404 here", true},
		{`%ERROR\d{3}%`, "got ERROR40 here", false},
		{`%AUTHORIZED%`, "[ERROR 401] UNAUTHORIZED REQUEST", true},
		{`%^[hc]at%`, "hat trick", true},
		{`%^[hc]at%`, "that", false},
		{`%colou?r%`, "the color", true},
		{`%[Ee]rror|[Ff]ail%`, "login fail", true},
		{`%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}% -%^#%`, "from 198.51.100.23", true},
		{`?%4\d\d% ?%5\d\d%`, "status 503", true},
		// moto's FilterLogEvents pattern tests.
		{"hello", "hello cruela", true}, {"hello", "goodbye world", false},
		{"goodbye world", "goodbye cruel world", true}, {"goodbye world", "hello world", false},
		{`"hello cruel"`, "hello cruela", true}, {`"hello cruel"`, "goodbye cruel world", false},
		// Realistic WorkMail / CloudTrail messages searched as text.
		{`"invalid credentials" ActiveSync`, "@workmail-auth-failed.json", true},
		{`ConsoleLogin -"\"MFAUsed\":\"Yes\""`, "@cloudtrail-consolelogin.json", true},
		{`?AccessDenied ?TrailNotFoundException`, "@cloudtrail-updatetrail-error.json", true},
	})
}

// Part D.2 and the AWS documentation examples for JSON patterns.
func TestJSON(t *testing.T) {
	runMatch(t, []matchCase{
		// AWS docs example record.
		{`{ $.eventType = "UpdateTrail" }`, "@docs-example.json", true},
		{`{ $.eventType = UpdateTrail }`, "@docs-example.json", true},
		{`{$.eventType="UpdateTrail"}`, "@docs-example.json", true},
		{`{ $.eventType = "updatetrail" }`, "@docs-example.json", false},
		{`{ $.sourceIPAddress != 123.123.* }`, "@docs-example.json", true},
		{`{ $.sourceIPAddress != 111.111.* }`, "@docs-example.json", false},
		{`{ $.sourceIPAddress = 111.111.* }`, "@docs-example.json", true},
		{`{ $.arrayKey[0] = "value" }`, "@docs-example.json", true},
		{`{ $.arrayKey[1] = "another value" }`, "@docs-example.json", true},
		{`{ $.arrayKey[2] = "value" }`, "@docs-example.json", false},
		{`{ $.eventType[0] = "UpdateTrail" }`, "@docs-example.json", false}, // not an array
		{`{ $.objectList[1].id = 2 }`, "@docs-example.json", true},
		{`{ $.objectList[1].id = 1 }`, "@docs-example.json", false},
		{`{ $.objectList[0].name = a }`, "@docs-example.json", true},
		{`{ $.SomeObject IS NULL }`, "@docs-example.json", true},
		{`{ $.ThisFlag IS NULL }`, "@docs-example.json", false},
		{`{ $.Missing IS NULL }`, "@docs-example.json", false},
		{`{ $.SomeOtherObject NOT EXISTS }`, "@docs-example.json", true},
		{`{ $.SomeObject NOT EXISTS }`, "@docs-example.json", false}, // null exists
		{`{ $.objectList NOT EXISTS }`, "@docs-example.json", false}, // arrays exist
		{`{ $.objectList[1] NOT EXISTS }`, "@docs-example.json", false},
		{`{ $.objectList[5] NOT EXISTS }`, "@docs-example.json", true},
		{`{ $.ThisFlag IS TRUE }`, "@docs-example.json", true},
		{`{ $.ThisFlag IS FALSE }`, "@docs-example.json", false},
		{`{ $.ThisFlag is true }`, "@docs-example.json", true},
		{`{ $.eventType = "*" }`, "@docs-example.json", true},
		{`{ $.eventType = * }`, "@docs-example.json", true},
		{`{ $.nothere = * }`, "@docs-example.json", false},
		{`{ $.SomeObject = * }`, "@docs-example.json", false}, // null is no value
		{`{ $.eventType = "*Trail" }`, "@docs-example.json", true},
		{`{ $.eventType = "Update*" }`, "@docs-example.json", true},
		{`{ $.eventType = "Up*Tr*l" }`, "@docs-example.json", true},
		{`{ $.eventType = "Up*Tx*l" }`, "@docs-example.json", false},
		{`{ $.eventType = "Update\*" }`, "@docs-example.json", false}, // escaped: literal '*'
		// A selector at an object or array never matches, not even with !=.
		{`{ $.objectList = 1 }`, "@docs-example.json", false},
		{`{ $.objectList != 1 }`, "@docs-example.json", false},
		{`{ $.objectList[0] != "x" }`, "@docs-example.json", false},
		{`{ $.missing != "x" }`, "@docs-example.json", false},
		// Compound conditions from the AWS docs.
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, "@docs-compound.json", true},
		{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, "@docs-compound.json", false},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, "@docs-compound.json", true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, "@docs-compound.json", false},
		{`{ $.coordinates[0][1] = 1 && $.coordinates[2][2] = 9 }`, "@docs-compound.json", true},
		{`{ $.coordinates[1][0] > 3 && $.coordinates[1][0] < 5 }`, "@docs-compound.json", true},
		{`{ ((($.user.id = 1))) }`, "@docs-compound.json", true},
		{`{ $.foo = bar || $.foo = baz }`, `{"foo": "bar"}`, true},
		{`{ $.foo = bar || $.foo = baz }`, `{"foo": "baz"}`, true},
		{`{ $.foo = bar || $.foo = baz }`, `{"foo": "qux"}`, false},
		// Numbers: integers, decimals, signs, scientific notation.
		{`{ $.bandwidth > 75 }`, `{"bandwidth": 80}`, true},
		{`{ $.bandwidth > 75 }`, `{"bandwidth": 75}`, false},
		{`{ $.bandwidth >= 75 }`, `{"bandwidth": 75.0}`, true},
		{`{ $.latency >= 500 }`, `{"latency": 499.99}`, false},
		{`{ $.latency > +1000 }`, `{"latency": 1000.5}`, true},
		{`{ $.numbers[0] < 10e3 }`, `{"numbers": [9999]}`, true},
		{`{ $.numbers[0] < 10e-3 }`, `{"numbers": [0.01]}`, false},
		{`{ $.number[0] = 1e-3 }`, `{"number": [0.001]}`, true},
		{`{ $.processes[4].averageRuntime <= 55.5 }`, `{"processes":[{},{},{},{},{"averageRuntime":55.5}]}`, true},
		{`{ $.errorCode = 400 }`, `{"errorCode": 400}`, true},
		{`{ $.errorCode != 500 }`, `{"errorCode": 400}`, true},
		{`{ $.errorCode != 500 }`, `{"errorCode": 500}`, false},
		{`{ $.errorCode = 400 }`, `{"errorCode": "400"}`, true}, // numeric literal, numeric string
		{`{ $.errorCode > 399 }`, `{"errorCode": "400"}`, true},
		{`{ $.errorCode > 399 }`, `{"errorCode": "AccessDenied"}`, false},
		{`{ $.errorCode = 4* }`, `{"errorCode": 404}`, true}, // wildcard on a number's text
		{`{ $.n = -0.5 }`, `{"n": -5e-1}`, true},
		{`{ $.id = 123456789012345678 }`, `{"id": 123456789012345679}`, false}, // exact integers
		{`{ $.latency = * }`, `{"latency": 50, "requestType": "GET"}`, true},
		// Booleans are IS TRUE / IS FALSE in filter patterns (not 1/0 as in Insights).
		{`{ $.auth_successful IS FALSE }`, "@workmail-auth-failed.json", true},
		{`{ $.auth_successful IS TRUE }`, "@workmail-auth-failed.json", false},
		{`{ $.auth_successful = 0 }`, "@workmail-auth-failed.json", false},
		{`{ $.action_allowed IS TRUE && $.protocol = "IMAP" && $.action = "read" }`, "@workmail-mailbox-read.json", true},
		{`{ $.action_allowed IS FALSE }`, "@workmail-mailbox-read.json", false},
		{`{ $.auth_failed_reason NOT EXISTS }`, "@workmail-mailbox-read.json", true},
		{`{ $.auth_failed_reason NOT EXISTS }`, "@workmail-auth-failed.json", false},
		{`{ $.source_ip = "198.51.100.*" && $.user = "*@example.com" }`, "@workmail-auth-failed.json", true},
		{`{ $.user_id = "" }`, "@workmail-auth-failed.json", true},
		{`{ $.user_id = * }`, "@workmail-auth-failed.json", true},
		{`{ $.folder_path = "/Inbox" }`, "@workmail-mailbox-read.json", true},
		{`{ $.event_timestamp > 1718000000000 }`, "@workmail-mailbox-read.json", true},
		// Email events: nested object and array.
		{`{ $.event.eventName = "ORGANIZATION_EMAIL_RECEIVED" && $.event.dmarcVerdict = "FAIL" }`, "@email-received.json", true},
		{`{ $.event.recipients[1] = "bob@example.com" }`, "@email-received.json", true},
		{`{ $.event.recipients[0] = "bob@example.com" }`, "@email-received.json", false},
		{`{ $.event.spamVerdict != "PASS" || $.event.dkimVerdict != "PASS" }`, "@email-received.json", false},
		// CloudTrail: CIS benchmark metric filters.
		{`{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`, `{"errorCode":"AccessDeniedException","eventName":"GetObject"}`, true},
		{`{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`, "@cloudtrail-updatetrail-error.json", false},
		{`{ ($.eventName = ConsoleLogin) && ($.additionalEventData.MFAUsed != "Yes") }`, "@cloudtrail-consolelogin.json", true},
		{`{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }`, "@cloudtrail-consolelogin.json", false},
		{`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`, "@cloudtrail-consolelogin.json", false},
		{`{ $.userIdentity.type = "IAMUser" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`, "@cloudtrail-updatetrail-error.json", true},
		{`{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`, "@cloudtrail-updatetrail-error.json", true},
		{`{ $.eventName = "UpdateTrail" && $.recipientAccountId = 123456789012 }`, "@cloudtrail-updatetrail-error.json", true},
		{`{ $.responseElements IS NULL }`, "@cloudtrail-updatetrail-error.json", true},
		{`{ $.requestParameters IS NULL }`, "@cloudtrail-consolelogin.json", true},
		{`{ $.responseElements.ConsoleLogin = "Success" }`, "@cloudtrail-consolelogin.json", true},
		{`{ $.eventSource = workmail.amazonaws.com && $.eventName = CreateUser && $.requestParameters.name = "janedoe" }`, "@cloudtrail-workmail-createuser.json", true},
		{`{ $.eventSource = "workmail.*" && $.userIdentity.userName != "WMSDK" }`, "@cloudtrail-workmail-createuser.json", false},
		// A Control Tower subscription filter: no spaces, bare wildcards.
		{`{(($.errorCode=AccessDenied) && ($.errorMessage=*AWSControlTowerExecution*)) || (($.eventName=UpdateAssumeRolePolicy) && ($.requestParameters.roleName=*AWSControlTowerExecution*))}`,
			`{"eventName":"UpdateAssumeRolePolicy","requestParameters":{"roleName":"AWSControlTowerExecution"}}`, true},
		{`{(($.errorCode=AccessDenied) && ($.errorMessage=*AWSControlTowerExecution*)) || (($.eventName=UpdateAssumeRolePolicy) && ($.requestParameters.roleName=*AWSControlTowerExecution*))}`,
			`{"errorCode":"AccessDenied","errorMessage":"User: x is not authorized"}`, false},
		// Regex values.
		{`{ $.errorCode = %\d{3}% }`, `{"errorCode": "404"}`, true},
		{`{ $.errorCode = %\d{3}% }`, `{"errorCode": "Throttled"}`, false},
		{`{ $.errorCode != %^Access% }`, `{"errorCode": "AccessDenied"}`, false},
		// Not JSON, invalid JSON, JSON that is not an object.
		{`{ $.a = 1 }`, `a = 1`, false},
		{`{ $.a = 1 }`, `{"a": 1`, false},
		{`{ $.a = 1 }`, `[{"a": 1}]`, false},
		{`{ $.a NOT EXISTS }`, `not json at all`, false},
		{`{ $.a = 1 }`, ` {"a": 1} `, true},
		// Escaped JSON strings compare unescaped (and defeat the prefilter).
		{`{ $.path = "/Inbox" }`, `{"path": "\/Inbox"}`, true},
		{`{ $.s = "é" }`, `{"s": "\u00e9"}`, true},
		// Keys with '-' and '_', and '@' keys.
		{`{ $.x-forwarded_for = "10.0.0.1" }`, `{"x-forwarded_for": "10.0.0.1"}`, true},
		{`{ $.@timestamp = "2024*" }`, `{"@timestamp": "2024-05-01"}`, true},
		// Booleans compared as text, numbers compared to quoted strings.
		{`{ $.flag = true }`, `{"flag": true}`, true},
		{`{ $.code = "404" }`, `{"code": 404}`, true},
		// Empty containers exist but have no value.
		{`{ $.a NOT EXISTS }`, `{"a": {}}`, false},
		{`{ $.a NOT EXISTS }`, `{"a": []}`, false},
		{`{ $.a = * }`, `{"a": {}}`, false},
		// Duplicate keys: the last one wins.
		{`{ $.a = 2 }`, `{"a": 1, "a": 2}`, true},
	})
}

// Part D.3 and the AWS documentation examples for space-delimited patterns.
func TestSpaceDelimited(t *testing.T) {
	const (
		apache404 = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`
		apache200 = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
		apache500 = `127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324`
		apache410 = `10.1.2.3 - - [10/Oct/2000:13:50:35 -0700] "GET /old.html HTTP/1.1" 410 4355`
	)
	runMatch(t, []matchCase{
		{`[ip, user, username, timestamp, request, status_code, bytes]`, apache404, true},
		{`[ip, user, username, timestamp, request, status_code]`, apache404, false}, // 7 fields, 6 names
		{`[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, apache404, true},
		{`[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, apache200, false},
		{`[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]`, apache410, true},
		{`[ip, user, username, timestamp, request, status_code, bytes > 1000]`, apache404, true},
		{`[ip, user, username, timestamp, request, status_code, bytes > 5000]`, apache404, false},
		{`[ip, user, username, timestamp, request, status_code = 200, bytes]`, apache200, true},
		{`[ip, user, username, timestamp, request, status_code = 200, bytes]`, apache500, false},
		{`[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]`, apache410, true},
		{`[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]`, apache200, false},
		{`[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]`, apache404, true},
		{`[ip, user, username, timestamp, request, status_code >= 500 && status_code < 600, bytes]`, apache500, true},
		{`[ip, user, username, timestamp, request, status_code >= 500 && status_code < 600, bytes]`, apache404, false},
		{`[..., request =*.html*, status_code = 4*, bytes]`, apache404, true},
		{`[..., status_code, bytes]`, apache404, true},
		{`[ip, user, ..., status_code, bytes]`, apache404, true},
		{`[ip, user, ...]`, apache404, true},
		{`[ip = 127.0.0.*, ...]`, apache404, true},
		{`[ip = 127.0.0.*, ...]`, apache410, false},
		{`[ip != 127.0.0.*, ...]`, apache410, true},
		{`[..., request=*.html*, status_code=4*,]`, apache404, true},
		{`[timestamp, ..., bytes]`, "single", false},
		{`[a, ..., b]`, "one two", true},
		{`[a, b, ..., c]`, "one two", false},
		// Bracketed and quoted fields keep their spaces.
		{`[ip, user, username, timestamp = "10/Oct/2000:13:25:15 -0700", ...]`, apache404, true},
		{`[ip, user, username, timestamp, request = "GET /index.html HTTP/1.0", ...]`, apache404, true},
		// Positional names.
		{`[w1=ERROR, w2]`, "ERROR message", true},
		{`[w1=ERROR, w2]`, "ERROR WARN message", false},
		{`[w1=ERROR || w1=WARN, w2]`, "WARN message", true},
		{`[w1=ERROR || w1=WARN, w2]`, "INFO message", false},
		{`[w1!=ERROR && w1!=WARN, w2]`, "INFO message", true},
		{`[w1!=ERROR && w1!=WARN, w2]`, "ERROR message", false},
		{`[w1, (w2 = a || w2 = b) && w2 != c]`, "x b", true},
		// Whitespace runs and trailing newlines do not make empty fields.
		{`[a, b, c]`, "x   y\tz\n", true},
		// Regex in a field.
		{`[..., status = %^4\d\d$%, bytes]`, apache404, true},
		{`[..., status = %^5\d\d$%, bytes]`, apache404, false},
		// A JSON message is just text here.
		{`[first, ...]`, "@workmail-mailbox-read.json", true},
	})
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		pattern string
		offset  int // byte offset of the error
		text    string
	}{
		{`"unterminated`, 0, "unterminated quoted string"},
		{`ERROR ?`, 6, "expected a term after '?'"},
		{`ERROR -  `, 6, "expected a term after '-'"},
		{`%abc`, 0, "unterminated regular expression"},
		{`%%`, 0, "empty regular expression"},
		{`%a(b)%`, 2, "not allowed in a regular expression"},
		{`%a% %b% %c%`, 8, "more than 2 regular expressions"},
		{`%[%`, 1, "bad regular expression"},
		{`{ }`, 2, "expected a selector"},
		{`{ $.a = 1`, 9, "expected '&&', '||' or the closing '}'"},
		{`{ $.a = 1 } x`, 12, "after the closing '}'"},
		{`{ $.a }`, 6, "expected a comparison operator"},
		{`{ $.a == 1 }`, 6, "'==' is not an operator"},
		{`{ $.a = }`, 8, "expected a value"},
		{`{ $.a > abc }`, 8, "needs a number"},
		{`{ $.a < "5" }`, 8, "needs a number"},
		{`{ $.a > %5% }`, 8, "needs a number"},
		{`{ $.a IS MAYBE }`, 9, "expected TRUE, FALSE or NULL"},
		{`{ $.a IS NOT NULL }`, 9, "IS NOT is not supported"},
		{`{ $.a EXISTS }`, 6, "EXISTS is not supported"},
		{`{ $.a LIKE x }`, 6, "expected a comparison operator, IS or NOT EXISTS"},
		{`{ $.a NOT NULL }`, 10, "expected EXISTS after NOT"},
		{`{ $a = 1 }`, 3, "expected '.' after '$'"},
		{`{ $. = 1 }`, 4, "expected a key name"},
		{`{ $.a[x] = 1 }`, 6, "expected an array index"},
		{`{ $.a[1 = 1 }`, 7, "expected ']'"},
		{`{ ($.a = 1 }`, 11, "expected ')' to close the '(' at character 2"},
		{`{ $.a = 1 && }`, 13, "expected a selector"},
		{`{ $.a = 1 & $.b = 2 }`, 10, "expected '&&', '||'"},
		{`{ $.a = "x }`, 8, "unterminated quoted string"},
		{`{ ` + strings.Repeat("(", 101) + `$.a = 1` + strings.Repeat(")", 101) + ` }`, 102, "nested deeper than 100"},
		{`[]`, 1, "at least one field"},
		{`[a, b`, 5, "expected ',' or ']'"},
		{`[a, ..., b, ...]`, 12, "only one '...' is allowed, the first is at character 4"},
		{`[a, a]`, 4, `field name "a" is already used at character 1`},
		{`[a = 1 && b = 2, c]`, 10, `conditions in one field must all name that field ("a"), found "b"`},
		{`[a && a = 1]`, 3, "expected a comparison after field name"},
		{`[a > x, b]`, 5, "needs a number"},
		{`["GET", b]`, 1, "expected a field name"},
		{`[a] b`, 4, "after the closing ']'"},
		{`[a = , b]`, 5, "expected a value"},
		{strings.Repeat("x", 1025), 1025, "longer than 1024"},
		{`é"`, 2, "quote inside an unquoted term"},
		{`ERROR x"y"`, 7, "quote inside an unquoted term"},
		{`[w1 = (ERROR), w2]`, 6, "expected a value"},
	}
	for _, c := range cases {
		_, err := Compile(c.pattern)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Compile(%.40q) = %v, want *Error containing %q", c.pattern, err, c.text)
			continue
		}
		if pe.Offset != c.offset || !strings.Contains(pe.Error(), c.text) {
			t.Errorf("Compile(%.40q): offset %d %q, want offset %d containing %q", c.pattern, pe.Offset, pe.Error(), c.offset, c.text)
		}
	}
	// Character offsets count runes, not bytes.
	_, err := Compile(`"é" %a(%`)
	var pe *Error
	if !errors.As(err, &pe) || pe.Char() != 6 || !strings.Contains(err.Error(), "at character 6") {
		t.Errorf("rune offset: %v", err)
	}
	// 1024 multi-byte characters are within the limit.
	if _, err := Compile(strings.Repeat("é", 1024)); err != nil {
		t.Errorf("1024 characters: %v", err)
	}
}

func TestKind(t *testing.T) {
	for pattern, want := range map[string]Kind{
		"": MatchAll, `" "`: MatchAll, "ERROR": Terms, "-x": Terms,
		"{ $.a = 1 }": JSON, " [a, b]": SpaceDelimited,
	} {
		if got := MustCompile(pattern).Kind(); got != want {
			t.Errorf("%q: kind %v, want %v", pattern, got, want)
		}
	}
}

func TestRegexes(t *testing.T) {
	for pattern, want := range map[string]int{"": 0, "ERROR": 0, `%a% b`: 1, `{ $.a = %x% || $.b = %y% }`: 2, `[a = %^4%, b]`: 1} {
		if got := MustCompile(pattern).Regexes(); got != want {
			t.Errorf("%q: %d regexes, want %d", pattern, got, want)
		}
	}
}
