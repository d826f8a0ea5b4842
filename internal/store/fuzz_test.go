package store

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/mailtrail/mailtrail/internal/scan"
	"testing"
)

// The fuzz targets feed arbitrary bytes to every on-disk parser: none may
// panic, and each must either fail with an error or return data that is
// consistent with its input. Run one with a short minimisation time, e.g.
//
//	go test -run XXX -fuzz '^FuzzSegment$' -fuzztime 1m -fuzzminimizetime 1s ./internal/store
//
// (the default 60 s minimisation of the multi-kilobyte seeds looks like a stall).

func FuzzReadWAL(f *testing.F) {
	payload, _ := encodeBatch(1, 2, 1746057600000, []Event{{1, []byte(`{"a":1}`)}, {2, []byte("text")}})
	codec, body, crc := frameBody(payload, true)
	file := append([]byte(walMagic), 1, 0, 0, 0, 0, 0, 0, 0)
	file = appendFrame(file, codec, body, crc, 7)
	codec, body, crc = frameBody(payload, false)
	file = appendFrame(file, codec, body, crc, 9)
	f.Add(file)
	f.Add(file[:len(file)-3])
	f.Add([]byte(walMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		good, _ := readWAL("fuzz.wal", data, func(b walBatch) error {
			n += len(b.rows)
			for _, r := range b.rows {
				if len(r.msg) > len(data)*64 {
					t.Fatalf("message longer than plausible")
				}
			}
			return nil
		})
		if good < 0 || good > len(data) {
			t.Fatalf("good offset %d outside file of %d bytes", good, len(data))
		}
	})
}

func FuzzSegment(f *testing.F) {
	b := newBuilder()
	var rows []memRow
	for i, m := range randomMessages(50, 3) {
		rows = append(rows, memRow{ts: int64(i), seq: uint64(i), stream: 1, msg: []byte(m)})
	}
	out, err := b.buildBlock(rows, readEncoder)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	writeSegment(&buf, []blockOut{out})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		seg, err := memSegment("fuzz", data)
		if err != nil {
			return
		}
		for i := range seg.blocks {
			fb, err := seg.readBlock(&seg.blocks[i], true)
			if err != nil {
				continue
			}
			for r := 0; r < fb.bi.rows; r++ {
				if _, err := fb.message(nil, r); err != nil {
					break
				}
			}
		}
	})
}

func FuzzDecodeColumn(f *testing.F) {
	var c colData
	c.reset("x")
	c.addStr(0, []byte("a"))
	c.addInt(2, 5)
	ts := []int64{1, 2, 3}
	p, _ := encodeColumn(nil, &c, 3, ts, &strScratch{})
	f.Add(p, uint8(3))
	var d colData
	d.reset("y")
	for i := 0; i < 3; i++ {
		d.addStr(int32(i), []byte("7b0c3a52-1111-4222-8333-444455556666"))
	}
	p, _ = encodeColumn(nil, &d, 3, ts, &strScratch{})
	f.Add(p, uint8(3))
	f.Add(binary.AppendUvarint([]byte{0, encRef, 1, 'y', 0xff}, 3), uint8(3))
	f.Fuzz(func(t *testing.T, p []byte, n uint8) {
		rows := int(n % 8)
		ts := make([]int64, rows)
		ref := func(string) (*scan.Column, error) { return decodeColumn(p, rows, ts, nil) }
		col, err := decodeColumn(p, rows, ts, ref)
		if err != nil {
			return
		}
		for i := 0; i < rows; i++ {
			col.Value(i)
		}
		// Decoding over a subset of rows must agree with decoding all
		// rows and then dropping the others.
		keep := make([]bool, rows)
		for i := range keep {
			keep[i] = i%2 == 0
		}
		sub := newRowSubset(keep)
		part, err := decodeColumn(p, rows, ts, func(string) (*scan.Column, error) { return decodeColumn(p, rows, ts, nil, sub) }, sub)
		if err != nil {
			t.Fatalf("full decode worked, subset decode failed: %v", err)
		}
		want := compactColumn(col, sub.rows)
		for i := 0; i < sub.n; i++ {
			a, b := part.Value(i), want.Value(i)
			if a != b && !(a.Kind == scan.KindFloat && b.Kind == scan.KindFloat && math.Float64bits(a.F) == math.Float64bits(b.F)) {
				t.Fatalf("row %d: subset decode %#v, full decode %#v", i, part.Value(i), want.Value(i))
			}
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(manifestMagic + "\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseManifest("fuzz", data)
	})
}

// FuzzIndexAndShapes reaches the index and shape-table parsers directly,
// behind the checksums that shield them in FuzzSegment.
func FuzzIndexAndShapes(f *testing.F) {
	b := newBuilder()
	var rows []memRow
	for i, m := range randomMessages(20, 5) {
		rows = append(rows, memRow{ts: int64(i), seq: uint64(i), stream: 1, msg: []byte(m)})
	}
	out, _ := b.buildBlock(rows, readEncoder)
	f.Add(encodeIndex([]blockIndex{out.idx}))
	p, _ := zdec.DecodeAll(out.data[out.idx.sys[sysShapes].off+4:out.idx.sys[sysShapes].off+out.idx.sys[sysShapes].n], nil)
	f.Add(p)
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeIndex(data, 1<<20)
		parseShapes(data, 8)
	})
}
