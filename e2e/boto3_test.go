package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const python3 = "/usr/bin/python3" // Debian's, where python3-boto3 lives

func TestBoto3(t *testing.T) {
	need(t, python3)
	need(t, "/usr/lib/python3/dist-packages/boto3/__init__.py")
	s := startServer(t, "")
	var batch []map[string]any
	for _, e := range seedEvents(time.Now()) {
		batch = append(batch, map[string]any{"timestamp": e.TS, "message": e.Msg})
	}
	f := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(f, []byte(mustJSON(batch)), 0o644)
	cmd := exec.Command(python3, "testdata/boto3_client.py", f)
	// Debian bookworm's botocore (1.29) predates StartLiveTail. Its loader
	// merges service-2.sdk-extras.json files found on AWS_DATA_PATH into the
	// bundled model, so testdata/botocore adds the operation, written from
	// the documented shapes; requests and the event stream are then
	// botocore's own.
	dataPath, _ := filepath.Abs("testdata/botocore")
	cmd.Env = append(clientEnv(keyA, secretA), "MAILTRAIL_ENDPOINT="+s.url(), "MAILTRAIL_ACCOUNT="+accountA, "AWS_DATA_PATH="+dataPath,
		"MAILTRAIL_KEY_B="+keyB, "MAILTRAIL_SECRET_B="+secretB)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 client: %v\n%s\nserver log:\n%s", err, out, s.log())
	}
	var got struct {
		Duplicate      string
		Rejected       any
		Status         string
		Rows           []map[string]string
		RecordsScanned float64
		TailStarted    bool
		Tailed         int
		Failures       []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	want := []map[string]string{
		{"user": "bob", "source_ip": "203.0.113.9"},
		{"user": "carol", "source_ip": "203.0.113.9"},
		{"user": "mallory", "source_ip": "192.0.2.66"},
	}
	// recordsScanned counts the records the engine examined: between the rows
	// matched and every record in range, since the store may skip records its
	// block indexes rule out (as AWS does with field indexes).
	if got.Duplicate != "ResourceAlreadyExistsException" || got.Rejected != nil || got.Status != "Complete" ||
		!reflect.DeepEqual(got.Rows, want) || got.RecordsScanned < 3 || got.RecordsScanned > 10 || !got.TailStarted || got.Tailed != 2 {
		t.Errorf("boto3 observed %+v", got)
	}
	// The script's checks of every operation (see its doc comment).
	if got.Failures == nil {
		t.Fatalf("boto3 client reported no failures list: %s", out)
	}
	for _, f := range got.Failures {
		t.Errorf("boto3: %s", f)
	}
}
