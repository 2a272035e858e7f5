// Command kubectl-golive is the kubectl plugin for golive: `kubectl golive`
// shows what an UpdateRequest waits for, gives the approval commands, writes
// the record of a request as Markdown and lists the next openings of the
// go-live windows.
//
// Installed on the PATH as kubectl-golive (`make install-plugin`), it runs as
// `kubectl golive ...` with kubectl's connection flags (-n, --context,
// --kubeconfig, --as, ...).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// Windows are shown in their own time zone wherever the plugin runs.
	_ "time/tzdata"

	"github.com/go-logr/logr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/clock"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	// The controller-runtime client logs nothing a person running kubectl needs.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, clock.RealClock{})
	stop()
	os.Exit(code)
}
