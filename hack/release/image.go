package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// source is the repository the image is built from (its source annotation).
	source = "https://github.com/golive-dev/golive"
	// binaryPath is where the manager lies in the image: its entrypoint. The
	// chart and config/manager set no command, so the image's entrypoint runs.
	binaryPath = "/golive"
	// nonRoot is the image's user, uid:gid, as in distroless' nonroot images.
	nonRoot   = "65532:65532"
	nonRootID = 65532
	// managerPackage is the manager's main package in the module.
	managerPackage = "./cmd"
)

// platforms are the image's platforms, in the order of its index.
var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// buildMeta says what is built: the version, the commit and the time every
// timestamp of the image carries, so that a build is reproducible.
type buildMeta struct {
	Version  string
	Revision string
	Created  time.Time
}

// annotations are the OCI annotations (and labels) of the index, each image
// and the SBOMs.
func (m buildMeta) annotations() map[string]string {
	a := map[string]string{
		"org.opencontainers.image.title":       "golive",
		"org.opencontainers.image.description": "golive takes application updates from the grey environment to production with approvals, go-live windows, backups and rollback.",
		"org.opencontainers.image.source":      source,
		"org.opencontainers.image.url":         source,
		"org.opencontainers.image.version":     m.Version,
		"org.opencontainers.image.created":     m.Created.Format(time.RFC3339),
	}
	if m.Revision != "" {
		a["org.opencontainers.image.revision"] = m.Revision
	}
	return a
}

// binary is the manager built for one platform.
type binary struct {
	Platform v1.Platform
	Path     string
}

// buildBinaries cross-compiles the manager of the module in moduleDir for
// every platform into outDir: static (no cgo), without local paths
// (-trimpath) or symbol tables, the version stamped in.
func buildBinaries(ctx context.Context, moduleDir, outDir string, meta buildMeta) ([]binary, error) {
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.revision=%s", meta.Version, meta.Revision)
	var built []binary
	for _, p := range platforms {
		out, err := filepath.Abs(filepath.Join(outDir, p.OS+"-"+p.Architecture, "golive"))
		if err != nil {
			return nil, err
		}
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, managerPackage)
		cmd.Dir = moduleDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building the manager for %s/%s: %w", p.OS, p.Architecture, err)
		}
		fmt.Fprintf(os.Stderr, "Built the manager for %s/%s in %s\n", p.OS, p.Architecture, time.Since(start).Round(time.Second))
		built = append(built, binary{Platform: p, Path: out})
	}
	return built, nil
}

// builtImage is what `release image` writes: the index of the platforms'
// images, and one SBOM artifact per image.
type builtImage struct {
	Index v1.ImageIndex
	SBOMs []v1.Image
}

// assemble puts every binary on an empty base and gathers the images into
// an index. Equal binaries and meta give equal digests.
func assemble(binaries []binary, meta buildMeta) (builtImage, error) {
	annotations := meta.annotations()
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var sboms []v1.Image
	for _, b := range binaries {
		content, err := os.ReadFile(b.Path)
		if err != nil {
			return builtImage{}, err
		}
		img, err := platformImage(content, b.Platform, meta)
		if err != nil {
			return builtImage{}, fmt.Errorf("the image for %s/%s: %w", b.Platform.OS, b.Platform.Architecture, err)
		}
		platform := b.Platform
		index = mutate.AppendManifests(index, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &platform},
		})
		sbom, err := sbomFor(b, img, meta)
		if err != nil {
			return builtImage{}, fmt.Errorf("the SBOM for %s/%s: %w", b.Platform.OS, b.Platform.Architecture, err)
		}
		sboms = append(sboms, sbom)
	}
	index = mutate.Annotations(index, annotations).(v1.ImageIndex)
	return builtImage{Index: index, SBOMs: sboms}, nil
}

// platformImage is the manager's image for one platform: one layer with the
// binary, a passwd for the non-root user and /tmp; no shell, nothing else.
func platformImage(golive []byte, platform v1.Platform, meta buildMeta) (v1.Image, error) {
	rootfs, err := rootFS(golive, meta.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: meta.Created},
			CreatedBy: "golive hack/release: the manager, static, on an empty base",
		},
	})
	if err != nil {
		return nil, err
	}
	config, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	config = config.DeepCopy()
	config.OS, config.Architecture, config.Variant = platform.OS, platform.Architecture, platform.Variant
	config.Created = v1.Time{Time: meta.Created}
	config.Config = v1.Config{
		Entrypoint: []string{binaryPath},
		User:       nonRoot,
		WorkingDir: "/",
		Labels:     meta.annotations(),
	}
	img, err = mutate.ConfigFile(img, config)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, meta.annotations()).(v1.Image), nil
}

// rootFS is the image's only layer, as a tar with fixed times and owners. The
// binary belongs to root and is not writable, so the non-root process cannot
// replace it even where the root filesystem is writable.
func rootFS(golive []byte, modTime time.Time) ([]byte, error) {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group := "root:x:0:\nnonroot:x:65532:\n"
	entries := []struct {
		header  tar.Header
		content []byte
	}{
		{header: tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{header: tar.Header{Name: "etc/group", Typeflag: tar.TypeReg, Mode: 0o644}, content: []byte(group)},
		{header: tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, content: []byte(passwd)},
		{header: tar.Header{Name: binaryPath[1:], Typeflag: tar.TypeReg, Mode: 0o555}, content: golive},
		{header: tar.Header{Name: "home/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{header: tar.Header{Name: "home/nonroot/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: nonRootID, Gid: nonRootID}},
		{header: tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}},
	}
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.header
		h.ModTime = modTime
		h.Size = int64(len(e.content))
		h.Format = tar.FormatPAX
		if h.Uid == nonRootID {
			h.Uname, h.Gname = "nonroot", "nonroot"
		} else {
			h.Uname, h.Gname = "root", "root"
		}
		if err := w.WriteHeader(&h); err != nil {
			return nil, err
		}
		if _, err := w.Write(e.content); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// refName is the layout's annotation that names the index, as in
// `skopeo copy oci:bin/image:0.1.0`.
const refName = "org.opencontainers.image.ref.name"

// writeLayout replaces dir with an OCI image layout holding the index, named
// by its version, and the SBOMs.
func writeLayout(dir string, built builtImage) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	manifest, err := built.Index.IndexManifest()
	if err != nil {
		return err
	}
	version := manifest.Annotations["org.opencontainers.image.version"]
	if err := path.AppendIndex(built.Index, layout.WithAnnotations(map[string]string{refName: version})); err != nil {
		return err
	}
	for _, sbom := range built.SBOMs {
		if err := path.AppendImage(sbom); err != nil {
			return err
		}
	}
	return nil
}
