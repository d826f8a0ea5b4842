package ingest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileInputs turns command-line arguments into inputs: "-" is standard
// input (once), a directory stands for every regular file below it in name
// order (an `aws s3 sync` of a bucket, say; hidden names are skipped), and
// anything else is a file, opened when its turn comes (a missing one is
// then reported and skipped, not fatal). stream, when not empty, is the
// stream of every input. total is the sum of the sizes, or 0 when one is
// unknown (a pipe).
func FileInputs(args []string, stream string) (inputs []Input, total int64, err error) {
	stdin := false
	for _, name := range args {
		if name == "-" {
			if stdin {
				return nil, 0, errors.New("- (standard input) given twice")
			}
			stdin = true
			in := Input{Name: name, Stream: stream, Size: -1,
				Open: func() (io.ReadCloser, error) { return io.NopCloser(os.Stdin), nil }}
			if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
				in.Size = fi.Size()
			}
			inputs = append(inputs, in)
			total = addSize(total, in.Size)
			continue
		}
		fi, err := os.Stat(name)
		if err == nil && fi.IsDir() {
			n := len(inputs)
			inputs, err = appendDir(inputs, name, stream)
			if err != nil {
				return nil, 0, err
			}
			for _, in := range inputs[n:] {
				total = addSize(total, in.Size)
			}
			continue
		}
		size := int64(-1)
		if err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		inputs = append(inputs, fileInput(name, size, stream))
		total = addSize(total, size)
	}
	return inputs, max(total, 0), nil
}

func addSize(total, size int64) int64 {
	if total < 0 || size < 0 {
		return -1
	}
	return total + size
}

func fileInput(path string, size int64, stream string) Input {
	return Input{Name: path, Size: size, Stream: stream, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// appendDir adds the regular files below dir, each named by its path so
// that default streams come out as for single files.
func appendDir(inputs []Input, dir, stream string) ([]Input, error) {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // .DS_Store and friends are never log data
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			inputs = append(inputs, fileInput(path, fi.Size(), stream))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	return inputs, nil
}
