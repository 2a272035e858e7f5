package servingcert

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{certificateFile: []byte("certificate 1"), keyFile: []byte("key 1")}
	for _, step := range []struct {
		files       map[string][]byte
		wantChanged bool
	}{
		{files, true},
		{files, false},
		{map[string][]byte{certificateFile: []byte("certificate 2"), keyFile: []byte("key 1")}, true},
	} {
		changed, err := writeFiles(dir, step.files)
		if err != nil {
			t.Fatal(err)
		}
		if changed != step.wantChanged {
			t.Errorf("changed = %v, want %v", changed, step.wantChanged)
		}
		for name, want := range step.files {
			path := filepath.Join(dir, name)
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s = %q, %v; want %q", name, got, err, want)
			}
			if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, %v; want 0600", name, info.Mode(), err)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Errorf("the folder holds %v (%v), want only tls.crt and tls.key", entries, err)
	}
}
