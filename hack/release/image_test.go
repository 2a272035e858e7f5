package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"sigs.k8s.io/yaml"
)

var (
	helloOnce sync.Once
	helloPath string
	helloErr  error
)

// testBinaries stands a small Go binary with build information
// (testdata/hello) in for the manager on every platform: assembling does not
// look inside it, and building the manager is for the release test.
func testBinaries(t *testing.T) []binary {
	t.Helper()
	helloOnce.Do(func() {
		dir, err := os.MkdirTemp("", "golive-release-test-")
		if err != nil {
			helloErr = err
			return
		}
		helloPath = filepath.Join(dir, "hello")
		out, err := exec.Command("go", "build", "-o", helloPath, "./testdata/hello").CombinedOutput()
		if err != nil {
			helloErr = fmt.Errorf("go build ./testdata/hello: %w\n%s", err, out)
		}
	})
	if helloErr != nil {
		t.Fatal(helloErr)
	}
	var binaries []binary
	for _, p := range platforms {
		binaries = append(binaries, binary{Platform: p, Path: helloPath})
	}
	return binaries
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helloPath != "" {
		os.RemoveAll(filepath.Dir(helloPath))
	}
	os.Exit(code)
}

var testMeta = buildMeta{Version: "1.2.3", Revision: "0123456789abcdef", Created: time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)}

func TestAssembleIsReproducible(t *testing.T) {
	digest := func(meta buildMeta) v1.Hash {
		built, err := assemble(testBinaries(t), meta)
		if err != nil {
			t.Fatal(err)
		}
		d, err := built.Index.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first, second := digest(testMeta), digest(testMeta)
	if first != second {
		t.Errorf("the same binaries gave two indexes, %s and %s", first, second)
	}
	later := testMeta
	later.Created = later.Created.Add(time.Second)
	if digest(later) == first {
		t.Error("another creation time gave the same index: the time is not in the image")
	}
}

func TestAssembleLaysOutImagesAndSBOMs(t *testing.T) {
	built, err := assemble(testBinaries(t), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	index, err := built.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(built.SBOMs) != len(index.Manifests) {
		t.Fatalf("%d SBOMs for %d images", len(built.SBOMs), len(index.Manifests))
	}
	for i, desc := range index.Manifests {
		img, err := built.Index.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		files := imageFiles(t, img)
		var paths []string
		for path, f := range files {
			paths = append(paths, path)
			if !f.header.ModTime.Equal(testMeta.Created) {
				t.Errorf("/%s has the time %s, want the build's %s", path, f.header.ModTime, testMeta.Created)
			}
		}
		if diff := cmp.Diff([]string{"etc", "etc/group", "etc/passwd", "golive", "home", "home/nonroot", "tmp"}, slices.Sorted(slices.Values(paths))); diff != "" {
			t.Errorf("%s: files (-want +got):\n%s", desc.Platform.Architecture, diff)
		}
		if !strings.Contains(string(files["etc/passwd"].content), "nonroot:x:65532:65532:") {
			t.Errorf("/etc/passwd names no user 65532:\n%s", files["etc/passwd"].content)
		}
		if files["tmp"].header.Mode&0o1777 != 0o1777 {
			t.Errorf("/tmp has the mode %o, want 1777", files["tmp"].header.Mode)
		}

		sbom := built.SBOMs[i]
		raw, err := sbom.RawManifest()
		if err != nil {
			t.Fatal(err)
		}
		var manifest v1.Manifest
		if err := json.Unmarshal(raw, &manifest); err != nil {
			t.Fatal(err)
		}
		if manifest.Subject == nil || manifest.Subject.Digest != desc.Digest {
			t.Errorf("the SBOM's subject is %v, want the %s image %s", manifest.Subject, desc.Platform.Architecture, desc.Digest)
		}
		if manifest.ArtifactType != string(spdxMediaType) {
			t.Errorf("the SBOM's artifact type is %q", manifest.ArtifactType)
		}
		config, err := sbom.RawConfigFile()
		if err != nil || string(config) != "{}" {
			t.Errorf("the SBOM's config is %q (%v), want OCI's empty {}", config, err)
		}
	}

	// Written and read back, the layout names the index by its version.
	dir := t.TempDir()
	if err := writeLayout(dir, built); err != nil {
		t.Fatal(err)
	}
	read, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	root, err := read.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want, err := partial.Descriptor(built.Index)
	if err != nil {
		t.Fatal(err)
	}
	if len(root.Manifests) != 1+len(built.SBOMs) || root.Manifests[0].Digest != want.Digest || root.Manifests[0].Annotations[refName] != "1.2.3" {
		t.Errorf("the layout's index.json lists %+v; want the index %s named 1.2.3, then the SBOMs", root.Manifests, want.Digest)
	}
}

func TestWithImageRepository(t *testing.T) {
	values, err := os.ReadFile("../../charts/golive/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed, err := withImageRepository(values, "registry.example.com/team/golive")
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Image struct {
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
		} `json:"image"`
	}
	if err := yaml.Unmarshal(changed, &parsed); err != nil {
		t.Fatal(err)
	}
	if parsed.Image.Repository != "registry.example.com/team/golive" || parsed.Image.Tag != "" {
		t.Errorf("image is %+v, want the new repository and no tag (the appVersion)", parsed.Image)
	}
	if got, want := strings.Count(string(changed), "\n"), strings.Count(string(values), "\n"); got != want {
		t.Errorf("%d lines became %d: only one line should change", want, got)
	}

	if _, err := withImageRepository([]byte("image:\n  tag: x\n"), "r"); err == nil {
		t.Error("values without image.repository: no error")
	}
}
