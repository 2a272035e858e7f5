// Command release builds golive's container image without a container engine
// and publishes it, with the Helm chart, to an OCI registry.
//
// Usage:
//
//	release image -out DIR -version V [-revision SHA] [-created UNIX]
//	release push -layout DIR -image REPO:TAG -version V -chart DIR -chart-repo oci://REGISTRY/PATH -helm HELM
//
// `image` cross-compiles the manager (static, CGO off) for every platform of
// platforms, puts each binary alone on an empty base, and writes an image
// index and one SPDX SBOM per platform (an OCI artifact whose subject is the
// platform's image) into the OCI image layout DIR. `push` copies that layout
// to the registry and pushes the chart, packaged so that its default image is
// the one just pushed. `make image` and `make release` run them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "image":
		err = imageCommand(ctx, os.Args[2:])
	case "push":
		err = pushCommand(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: release image|push [flags]; release image -h or release push -h for the flags")
	os.Exit(2)
}

func imageCommand(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("image", flag.ExitOnError)
	out := flags.String("out", "bin/image", "folder of the OCI image layout to write (replaced)")
	version := flags.String("version", "", "version of the build: the image's version annotation and the manager's version")
	revision := flags.String("revision", "", "commit the build is made from (the revision annotation); omitted when empty")
	created := flags.String("created", "0", "creation time, seconds since 1970 (SOURCE_DATE_EPOCH, the commit's time): every timestamp in the image")
	module := flags.String("module", ".", "folder of the golive module to build")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *version == "" {
		return fmt.Errorf("-version is required")
	}
	seconds, err := strconv.ParseInt(*created, 10, 64)
	if err != nil {
		return fmt.Errorf("-created: %w", err)
	}
	meta := buildMeta{
		Version:  *version,
		Revision: *revision,
		Created:  time.Unix(seconds, 0).UTC(),
	}
	binDir, err := os.MkdirTemp("", "golive-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	binaries, err := buildBinaries(ctx, *module, binDir, meta)
	if err != nil {
		return err
	}
	built, err := assemble(binaries, meta)
	if err != nil {
		return err
	}
	if err := writeLayout(*out, built); err != nil {
		return err
	}
	digest, err := built.Index.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Wrote the image %s (%s) and its SBOMs into %s\n", *version, digest, *out)
	return nil
}

func pushCommand(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("push", flag.ExitOnError)
	layoutDir := flags.String("layout", "bin/image", "OCI image layout written by `release image`")
	image := flags.String("image", "", "where to push the image index, REPOSITORY:TAG")
	version := flags.String("version", "", "version of the chart and its appVersion; the image's tag")
	chart := flags.String("chart", "charts/golive", "folder of the Helm chart")
	chartRepo := flags.String("chart-repo", "", "where to push the chart, oci://REGISTRY/PATH; empty: the chart is not pushed")
	helm := flags.String("helm", "helm", "helm binary, to package and push the chart")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *image == "" || *version == "" {
		return fmt.Errorf("-image and -version are required")
	}
	pushed, err := pushLayout(ctx, *layoutDir, *image)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Pushed the image %s@%s\n", pushed.Context(), pushed.DigestStr())
	if *chartRepo == "" {
		return nil
	}
	return pushChart(ctx, chartRelease{
		Helm:        *helm,
		Dir:         *chart,
		Version:     *version,
		Repository:  pushed.Context().Name(),
		Destination: *chartRepo,
	})
}
