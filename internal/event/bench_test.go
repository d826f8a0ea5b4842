package event

import (
	"os"
	"testing"
)

// benchRecords are typical records of each shape, compact as ingested.
func benchRecords(b *testing.B) map[string][]byte {
	recs := map[string][]byte{}
	for _, name := range []string{
		"workmail-audit-mailbox-access.sample.json",
		"workmail-audit-authentication.sample.json",
		"workmail-audit-personal-access-token.sample.json",
		"workmail-email-event-organization-email-received.sample.json",
		"cloudtrail-workmail-createuser.record.json",
	} {
		data, err := os.ReadFile("testdata/golden/" + name + ".json")
		if err != nil {
			b.Fatal(err)
		}
		recs[name[:len(name)-len(".sample.json")]] = data[:len(data)-1]
	}
	return recs
}

func BenchmarkClassify(b *testing.B) {
	for name, raw := range benchRecords(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Classify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTimestamp(b *testing.B) {
	for name, raw := range benchRecords(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				Timestamp(raw)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for name, raw := range benchRecords(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Decode(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for name, raw := range benchRecords(b) {
		rec, _, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				if buf, err = Append(buf[:0], rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
