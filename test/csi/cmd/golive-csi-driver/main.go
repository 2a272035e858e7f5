// Command golive-csi-driver serves golive's test CSI driver (package
// test/csi/driver) on a unix socket, for csi-provisioner and csi-snapshotter.
// hack/csi.sh starts it next to them.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/golive-dev/golive/test/csi/driver"
)

func main() {
	endpoint := flag.String("endpoint", "", "unix socket to serve on: a path or unix:///path (required)")
	dataRoot := flag.String("data-root", "", "directory holding the volumes and snapshots (required)")
	name := flag.String("name", driver.DefaultName, "driver name, as in the StorageClass's provisioner")
	verbose := flag.Bool("v", false, "log every call, not only the failed ones")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *endpoint == "" || *dataRoot == "" {
		log.Error("--endpoint and --data-root are required")
		os.Exit(2)
	}

	d, err := driver.New(*name, *dataRoot)
	if err != nil {
		log.Error("starting", "error", err)
		os.Exit(1)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	log.Info("serving", "driver", *name, "endpoint", *endpoint, "dataRoot", *dataRoot)
	if err := driver.Serve(ctx, d, *endpoint, log); err != nil {
		log.Error("serving", "error", err)
		os.Exit(1)
	}
	log.Info("stopped")
}
