package driver

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
)

// A snapshot file is only ever written by tarDir, but untarFile must still not
// write outside the new volume whatever the archive says.
func TestUntarStaysInside(t *testing.T) {
	outside := t.TempDir()
	for name, entries := range map[string][]tar.Header{
		"dot-dot":  {{Name: "../escaped", Typeflag: tar.TypeReg, Mode: 0o644}},
		"absolute": {{Name: filepath.Join(outside, "escaped"), Typeflag: tar.TypeReg, Mode: 0o644}},
		"through a symlink": {
			{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside},
			{Name: "link/escaped", Typeflag: tar.TypeReg, Mode: 0o644},
		},
	} {
		t.Run(name, func(t *testing.T) {
			archive := filepath.Join(t.TempDir(), "a.tar")
			f, err := os.Create(archive)
			if err != nil {
				t.Fatal(err)
			}
			tw := tar.NewWriter(f)
			for _, hdr := range entries {
				if err := tw.WriteHeader(&hdr); err != nil {
					t.Fatal(err)
				}
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			f.Close()

			dst := filepath.Join(t.TempDir(), "vol")
			if err := os.Mkdir(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := untarFile(archive, dst); err == nil {
				t.Error("untarFile accepted the archive")
			}
			for _, p := range []string{filepath.Join(outside, "escaped"), filepath.Join(filepath.Dir(dst), "escaped")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}
