package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// repoRoot is the repository, seen from this package's folder.
const repoRoot = "../.."

// skipReleaseEnv, set to 1, skips the tests that need helm for a quick local
// run; `make test` exports HELM and never sets it.
const skipReleaseEnv = "GOLIVE_SKIP_RELEASE"

// helmBinary is the helm binary from $HELM, which the Makefile exports.
func helmBinary(t *testing.T) string {
	t.Helper()
	path := os.Getenv("HELM")
	problem := ""
	if path == "" {
		problem = "HELM is not set: run `make test`, which builds helm from source and exports HELM, or set HELM to a helm binary"
	} else if _, err := os.Stat(path); err != nil {
		problem = fmt.Sprintf("HELM names no helm binary: %v", err)
	}
	if problem != "" {
		if os.Getenv(skipReleaseEnv) == "1" {
			t.Skip(problem + " (" + skipReleaseEnv + "=1: skipped)")
		}
		t.Fatal(problem + " (" + skipReleaseEnv + "=1 skips this test for a quick local run)")
	}
	return path
}

// runMake runs make in the repository with the Makefile's defaults: the
// variables of an outer `make test VAR=...` do not leak in.
func runMake(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "--no-print-directory", "-C", repoRoot}, args...)...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "REGISTRY", "IMAGE", "CHART_REPO", "VERSION", "IMAGE_LAYOUT", "REVISION", "SOURCE_DATE_EPOCH":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("make %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// published is what `make print-release` says `make release` publishes.
type published struct {
	Image, Chart string
}

func printRelease(t *testing.T, args ...string) published {
	t.Helper()
	var p published
	for line := range strings.Lines(runMake(t, append([]string{"print-release"}, args...)...)) {
		kind, ref, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch kind {
		case "image":
			p.Image = ref
		case "chart":
			p.Chart = ref
		}
	}
	if p.Image == "" || p.Chart == "" {
		t.Fatalf("make print-release named no image or chart: %+v", p)
	}
	return p
}

// deploymentImage is the manager's image in the golive Deployment among the
// YAML documents.
func deploymentImage(t *testing.T, documents []byte) string {
	t.Helper()
	for document := range strings.SplitSeq(string(documents), "\n---") {
		var object struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Name  string `json:"name"`
							Image string `json:"image"`
						} `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(document), &object); err != nil {
			t.Fatalf("parsing a rendered document: %v", err)
		}
		if object.Kind != "Deployment" || object.Metadata.Name != "golive" {
			continue
		}
		for _, c := range object.Spec.Template.Spec.Containers {
			if c.Name == "manager" {
				return c.Image
			}
		}
	}
	t.Fatal("no Deployment golive with a container manager")
	return ""
}

func helmTemplate(t *testing.T, chart string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(helmBinary(t), append([]string{"template", "golive", chart, "--namespace", "golive-system"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("helm template %s: %v\n%s", chart, err, exit.Stderr)
		}
		t.Fatalf("helm template %s: %v", chart, err)
	}
	return out
}

// Both ways to install golive run, without values or edits, the image that
// `make release` publishes by default.
func TestInstallsRunTheReleasedImage(t *testing.T) {
	release := printRelease(t)
	if want := "ghcr.io/golive-dev/golive:"; !strings.HasPrefix(release.Image, want) {
		t.Errorf("make release publishes %s, want %s<version>", release.Image, want)
	}

	t.Run("chart", func(t *testing.T) {
		got := deploymentImage(t, helmTemplate(t, filepath.Join(repoRoot, "charts", "golive")))
		if got != release.Image {
			t.Errorf("the chart's default image is %s; make release publishes %s: set image.repository in charts/golive/values.yaml, appVersion in Chart.yaml", got, release.Image)
		}
	})
	t.Run("kustomize", func(t *testing.T) {
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, "config", "default"))
		if err != nil {
			t.Fatal(err)
		}
		documents, err := resources.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		if got := deploymentImage(t, documents); got != release.Image {
			t.Errorf("config/default runs %s; make release publishes %s: set images in config/manager/kustomization.yaml", got, release.Image)
		}
	})
}

// TestReleasePublishesTheImageAndTheChart runs `make release` against a
// registry in this process, pulls everything back and checks what a cluster
// would get: the image for each platform, its SBOMs, and a chart that runs
// that image.
func TestReleasePublishesTheImageAndTheChart(t *testing.T) {
	helm := helmBinary(t)
	server := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(server.Close)
	host := strings.TrimPrefix(server.URL, "http://")
	reg := host + "/golive-dev"
	layoutDir := filepath.Join(t.TempDir(), "layout")

	start := time.Now()
	runMake(t, "release", "REGISTRY="+reg, "IMAGE_LAYOUT="+layoutDir, "HELM="+helm)
	t.Logf("make release took %s", time.Since(start).Round(time.Second))

	release := printRelease(t, "REGISTRY="+reg)
	version := release.Image[strings.LastIndex(release.Image, ":")+1:]
	revision := strings.TrimSpace(runGit(t, "rev-parse", "HEAD"))
	if strings.TrimSpace(runGit(t, "status", "--porcelain", "--untracked-files=no")) != "" {
		revision += "-dirty"
	}
	tag, err := name.NewTag(release.Image)
	if err != nil {
		t.Fatal(err)
	}
	index, err := remote.Index(tag)
	if err != nil {
		t.Fatalf("pulling %s: %v", tag, err)
	}
	indexManifest, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	wantAnnotations := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/golive-dev/golive",
		"org.opencontainers.image.revision": revision,
		"org.opencontainers.image.version":  version,
	}
	checkAnnotations(t, "the index", indexManifest.Annotations, wantAnnotations)
	if indexManifest.MediaType != types.OCIImageIndex {
		t.Errorf("the index's media type is %s, want %s", indexManifest.MediaType, types.OCIImageIndex)
	}

	var platformsPushed []string
	for _, desc := range indexManifest.Manifests {
		platform := desc.Platform.OS + "/" + desc.Platform.Architecture
		platformsPushed = append(platformsPushed, platform)
		t.Run(platform, func(t *testing.T) {
			img, err := index.Image(desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			manifest, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			checkAnnotations(t, "the image", manifest.Annotations, wantAnnotations)
			config, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if config.OS != desc.Platform.OS || config.Architecture != desc.Platform.Architecture {
				t.Errorf("the config says %s/%s, the index %s", config.OS, config.Architecture, platform)
			}
			if diff := cmp.Diff([]string{"/golive"}, config.Config.Entrypoint); diff != "" {
				t.Errorf("entrypoint (-want +got):\n%s", diff)
			}
			if config.Config.User != "65532:65532" {
				t.Errorf("the image runs as %q, want 65532:65532", config.Config.User)
			}
			checkAnnotations(t, "the config's labels", config.Config.Labels, wantAnnotations)

			files := imageFiles(t, img)
			for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox"} {
				if _, ok := files[shell]; ok {
					t.Errorf("the image has %s", shell)
				}
			}
			golive, ok := files["golive"]
			if !ok {
				t.Fatalf("the image has no /golive; it has %v", slices.Sorted(maps.Keys(files)))
			}
			checkStaticBinary(t, golive, desc.Platform.Architecture)
			if desc.Platform.Architecture == runtime.GOARCH {
				checkHelp(t, golive)
			}
			checkSBOM(t, tag.Context().Digest(desc.Digest.String()), golive)
		})
	}
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64"}, platformsPushed); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}

	t.Run("make image wrote what was pushed", func(t *testing.T) {
		local, err := layout.ImageIndexFromPath(layoutDir)
		if err != nil {
			t.Fatal(err)
		}
		localManifest, err := local.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		pushed, err := index.Digest()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, desc := range localManifest.Manifests {
			if desc.Annotations[refName] == version {
				found = true
				if desc.Digest != pushed {
					t.Errorf("the layout's %s is %s, the registry's %s", version, desc.Digest, pushed)
				}
			}
		}
		if !found {
			t.Errorf("the layout names no index %s", version)
		}
	})

	t.Run("chart", func(t *testing.T) {
		if want := "oci://" + reg + "/charts/golive:" + version; release.Chart != want {
			t.Errorf("make print-release names the chart %s, want %s", release.Chart, want)
		}
		chart := strings.TrimSuffix(release.Chart, ":"+version)
		got := deploymentImage(t, helmTemplate(t, chart, "--version", version, "--plain-http"))
		if got != release.Image {
			t.Errorf("the published chart runs %s by default, want %s", got, release.Image)
		}
	})
}

func runGit(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func checkAnnotations(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for key, value := range want {
		if got[key] != value {
			t.Errorf("%s: %s is %q, want %q", what, key, got[key], value)
		}
	}
	if _, err := time.Parse(time.RFC3339, got["org.opencontainers.image.created"]); err != nil {
		t.Errorf("%s: org.opencontainers.image.created: %v", what, err)
	}
}

// imageFiles reads the image's filesystem: each regular file's content and
// header, keyed by path without the leading slash.
type imageFile struct {
	header  tar.Header
	content []byte
}

func imageFiles(t *testing.T, img v1.Image) map[string]imageFile {
	t.Helper()
	reader := mutate.Extract(img)
	defer reader.Close()
	files := map[string]imageFile{}
	tr := tar.NewReader(reader)
	for {
		header, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(strings.TrimSuffix(header.Name, "/"), "/")] = imageFile{header: *header, content: content}
	}
	return files
}

// checkStaticBinary checks that the binary is for arch, linked statically, and
// not writable by its owner or anyone.
func checkStaticBinary(t *testing.T, golive imageFile, arch string) {
	t.Helper()
	if golive.header.Uid != 0 || golive.header.Mode&0o222 != 0 || golive.header.Mode&0o111 == 0 {
		t.Errorf("/golive is owned by %d with mode %o, want root, executable, read-only", golive.header.Uid, golive.header.Mode)
	}
	file, err := elf.NewFile(bytes.NewReader(golive.content))
	if err != nil {
		t.Fatalf("/golive is not an ELF binary: %v", err)
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	if file.Machine != machines[arch] {
		t.Errorf("/golive is for %s, want %s", file.Machine, machines[arch])
	}
	for _, prog := range file.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Error("/golive asks for a dynamic loader: it is not static")
		}
	}
}

// checkHelp runs the binary taken out of the image, as a cluster would.
func checkHelp(t *testing.T, golive imageFile) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "golive")
	if err := os.WriteFile(path, golive.content, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("/golive --help: %v\n%s", err, out)
	}
	for _, flag := range []string{"-egress-allow", "-webhook-client-ca", "-leader-elect"} {
		if !bytes.Contains(out, []byte(flag)) {
			t.Errorf("/golive --help does not mention %s:\n%s", flag, out)
		}
	}
}

// checkSBOM finds the image's SPDX SBOM among its referrers and checks that it
// describes this very binary and the modules it is built from.
func checkSBOM(t *testing.T, subject name.Digest, golive imageFile) {
	t.Helper()
	referrers, err := remote.Referrers(subject, remote.WithFilter("artifactType", string(spdxMediaType)))
	if err != nil {
		t.Fatal(err)
	}
	found, err := referrers.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Manifests) != 1 {
		t.Fatalf("%d SPDX SBOMs refer to the image, want 1", len(found.Manifests))
	}
	artifact, err := remote.Image(subject.Context().Digest(found.Manifests[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := artifact.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("the SBOM has %d layers (%v), want 1", len(layers), err)
	}
	reader, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var document spdxDocument
	if err := json.NewDecoder(reader).Decode(&document); err != nil {
		t.Fatalf("the SBOM is not SPDX JSON: %v", err)
	}
	sum := sha256.Sum256(golive.content)
	packages := map[string]spdxPackage{}
	for _, p := range document.Packages {
		packages[p.Name] = p
	}
	main := packages["github.com/golive-dev/golive"]
	if len(main.Checksums) != 1 || main.Checksums[0].ChecksumValue != hex.EncodeToString(sum[:]) {
		t.Errorf("the SBOM's golive package has the checksums %v, want the binary's sha256 %x", main.Checksums, sum)
	}
	for _, module := range []string{"stdlib", "sigs.k8s.io/controller-runtime", "k8s.io/client-go", "golang.org/x/crypto/x509roots/fallback"} {
		if packages[module].VersionInfo == "" {
			t.Errorf("the SBOM names no version of %s", module)
		}
	}
}
