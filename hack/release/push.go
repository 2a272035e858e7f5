package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// pushLayout pushes the layout's image index to image (REPOSITORY:TAG), then
// its SBOMs, which refer to the index's images. Credentials come from the
// Docker config ($DOCKER_CONFIG/config.json, ~/.docker/config.json).
func pushLayout(ctx context.Context, dir, image string) (name.Digest, error) {
	tag, err := name.NewTag(image, name.StrictValidation)
	if err != nil {
		return name.Digest{}, err
	}
	path, err := layout.FromPath(dir)
	if err != nil {
		return name.Digest{}, err
	}
	root, err := path.ImageIndex()
	if err != nil {
		return name.Digest{}, err
	}
	manifest, err := root.IndexManifest()
	if err != nil {
		return name.Digest{}, err
	}
	options := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	var pushed *name.Digest
	for _, desc := range manifest.Manifests {
		if desc.MediaType != types.OCIImageIndex {
			continue
		}
		if pushed != nil {
			return name.Digest{}, fmt.Errorf("%s holds more than one image index", dir)
		}
		index, err := root.ImageIndex(desc.Digest)
		if err != nil {
			return name.Digest{}, err
		}
		if err := remote.WriteIndex(tag, index, options...); err != nil {
			return name.Digest{}, fmt.Errorf("pushing the image to %s: %w", tag, err)
		}
		digest := tag.Context().Digest(desc.Digest.String())
		pushed = &digest
	}
	if pushed == nil {
		return name.Digest{}, fmt.Errorf("%s holds no image index: run `make image`", dir)
	}
	for _, desc := range manifest.Manifests {
		if desc.ArtifactType != string(spdxMediaType) {
			continue
		}
		sbom, err := root.Image(desc.Digest)
		if err != nil {
			return name.Digest{}, err
		}
		// Pushed by digest: a registry without the referrers API lists it
		// under the tag sha256-<subject's digest>, which go-containerregistry
		// maintains.
		if err := remote.Write(tag.Context().Digest(desc.Digest.String()), sbom, options...); err != nil {
			return name.Digest{}, fmt.Errorf("pushing an SBOM to %s: %w", tag.Context(), err)
		}
	}
	return *pushed, nil
}

// chartRelease says how to publish the chart: its version (and appVersion),
// the image repository its values default to, and where it goes.
type chartRelease struct {
	Helm        string
	Dir         string
	Version     string
	Repository  string
	Destination string // oci://REGISTRY/PATH
}

// pushChart packages a copy of the chart whose version and appVersion are the
// release's version and whose default image repository is the one pushed, so
// that installing the published chart without values runs the published
// image; then pushes it with `helm push`.
func pushChart(ctx context.Context, release chartRelease) error {
	destination, ok := strings.CutPrefix(release.Destination, "oci://")
	if !ok {
		return fmt.Errorf("the chart's destination %q is not oci://REGISTRY/PATH", release.Destination)
	}
	registry, err := name.NewRegistry(strings.SplitN(destination, "/", 2)[0])
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "golive-chart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	chart := filepath.Join(work, filepath.Base(release.Dir))
	if err := os.CopyFS(chart, os.DirFS(release.Dir)); err != nil {
		return err
	}
	valuesPath := filepath.Join(chart, "values.yaml")
	values, err := os.ReadFile(valuesPath)
	if err != nil {
		return err
	}
	values, err = withImageRepository(values, release.Repository)
	if err != nil {
		return err
	}
	if err := os.WriteFile(valuesPath, values, 0o644); err != nil {
		return err
	}
	helm := func(args ...string) error {
		cmd := exec.CommandContext(ctx, release.Helm, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("helm %s: %w", args[0], err)
		}
		return nil
	}
	if err := helm("package", chart, "--version", release.Version, "--app-version", release.Version, "--destination", work); err != nil {
		return err
	}
	packaged := filepath.Join(work, filepath.Base(release.Dir)+"-"+release.Version+".tgz")
	args := []string{"push", packaged, release.Destination}
	// The same rule go-containerregistry follows for the image: plain HTTP
	// for localhost, loopback and private addresses.
	if registry.Scheme() == "http" {
		args = append(args, "--plain-http")
	}
	return helm(args...)
}

// imageRepositoryLine is the line of values.yaml that sets image.repository.
var imageRepositoryLine = regexp.MustCompile(`^(  repository:\s*)(\S+)(.*)$`)

// withImageRepository sets image.repository in values.yaml, changing that
// one line so that the comments stay.
func withImageRepository(values []byte, repository string) ([]byte, error) {
	var out bytes.Buffer
	inImage, replaced := false, 0
	scanner := bufio.NewScanner(bytes.NewReader(values))
	for scanner.Scan() {
		line := scanner.Text()
		if len(line) > 0 && line[0] != ' ' && line[0] != '#' {
			inImage = line == "image:"
		}
		if m := imageRepositoryLine.FindStringSubmatch(line); inImage && m != nil {
			line = m[1] + repository + m[3]
			replaced++
		}
		out.WriteString(line + "\n")
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if replaced != 1 {
		return nil, fmt.Errorf("values.yaml: found %d lines setting image.repository, want 1", replaced)
	}
	return out.Bytes(), nil
}
