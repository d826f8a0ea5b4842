package awsjson

import "github.com/mailtrail/mailtrail/internal/jsonstr"

// AppendString appends s as a JSON string, quotes included, byte for byte
// as Encode (encoding/json with HTML escaping off) writes it: \" \\ \b \f
// \n \r \t, other control characters as \u00XX, U+2028 and U+2029 as
// \u2028 and \u2029 (JavaScript line terminators), and each invalid UTF-8
// byte as \ufffd.
func AppendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s, true) }
