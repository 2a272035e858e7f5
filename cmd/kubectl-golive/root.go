package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// fieldManager names the plugin in the managedFields of the requests it annotates.
const fieldManager = "kubectl-golive"

// rootOptions is what every command shares: kubectl's connection flags, the
// streams and the clock that relative times are computed with.
type rootOptions struct {
	configFlags *genericclioptions.ConfigFlags
	streams     genericiooptions.IOStreams
	clock       clock.PassiveClock
	scheme      *runtime.Scheme
}

// run executes the plugin with args and returns its exit code: 0 on success,
// 1 when the command failed (the error is written to ErrOut).
func run(ctx context.Context, args []string, streams genericiooptions.IOStreams, clock clock.PassiveClock) int {
	cmd := newRootCommand(streams, clock)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(streams.ErrOut, describeError(err))
		return 1
	}
	return 0
}

func newRootCommand(streams genericiooptions.IOStreams, clock clock.PassiveClock) *cobra.Command {
	o := &rootOptions{
		configFlags: genericclioptions.NewConfigFlags(true),
		streams:     streams,
		clock:       clock,
		scheme:      newScheme(),
	}
	cmd := &cobra.Command{
		Use:   "kubectl-golive",
		Short: "Follow, approve and report golive update requests",
		Long: `Follow, approve and report golive update requests.

An UpdateRequest (short name ur) takes a release from the grey environment to
production through soak, approvals, a go-live window, a backup and
verification. These commands list the requests and what each waits for, show
what waits for you, give the approval commands that golive's admission webhook
checks and records, write the whole record as Markdown, list the next openings
of the go-live windows and scaffold a new request from a namespace.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl golive"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// kubectl completes plugins through kubectl_complete-golive, not a completion command.
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	o.configFlags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newListCommand(o),
		newWaitingCommand(o),
		newStatusCommand(o),
		newApproveCommand(o),
		newRejectCommand(o),
		newAcceptCommand(o),
		newGoCommand(o),
		newRetryCommand(o),
		newAbortCommand(o),
		newReportCommand(o),
		newRecordsCommand(o),
		newVerifyRecordsCommand(o),
		newWindowsCommand(o),
		newInitCommand(o),
	)
	return cmd
}

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(golivev1alpha1.AddToScheme(scheme))
	// The kinds init reads and the reviews list and waiting ask.
	utilruntime.Must(appsv1.AddToScheme(scheme))
	utilruntime.Must(corev1.AddToScheme(scheme))
	utilruntime.Must(authenticationv1.AddToScheme(scheme))
	utilruntime.Must(authorizationv1.AddToScheme(scheme))
	return scheme
}

// client connects to the API server chosen by kubectl's flags.
func (o *rootOptions) client() (client.Client, error) {
	config, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	return client.New(config, client.Options{Scheme: o.scheme})
}

// namespace is the namespace of -n, else the kubeconfig context's, else "default".
func (o *rootOptions) namespace() (string, error) {
	namespace, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
	return namespace, err
}

// getRequest reads the UpdateRequest name in the current namespace.
func (o *rootOptions) getRequest(ctx context.Context, c client.Client, name string) (*golivev1alpha1.UpdateRequest, error) {
	namespace, err := o.namespace()
	if err != nil {
		return nil, err
	}
	var request golivev1alpha1.UpdateRequest
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &request); err != nil {
		return nil, err
	}
	return &request, nil
}

// getWindow reads the GoLiveWindow a request names. It is extra information:
// when it cannot be read, the command goes on without it and says why.
func getWindow(ctx context.Context, c client.Client, request *golivev1alpha1.UpdateRequest) (*golivev1alpha1.GoLiveWindow, error) {
	var window golivev1alpha1.GoLiveWindow
	key := client.ObjectKey{Namespace: request.Namespace, Name: request.Spec.Window.Name}
	if err := c.Get(ctx, key, &window); err != nil {
		return nil, err
	}
	return &window, nil
}

// printFlags are the -o formats of kubectl (json, yaml, name, jsonpath, ...)
// for commands whose result is an object.
func printFlags(scheme *runtime.Scheme) *genericclioptions.PrintFlags {
	return genericclioptions.NewPrintFlags("").WithTypeSetter(scheme)
}

// objectPrinter returns the printer -o asked for, or nil when the command's
// own output was asked for (no -o).
func objectPrinter(flags *genericclioptions.PrintFlags) (printers.ResourcePrinter, error) {
	if flags.OutputFormat == nil || *flags.OutputFormat == "" {
		return nil, nil
	}
	return flags.ToPrinter()
}

// describeError says what went wrong as kubectl does: an API server's answer
// (such as the admission webhook's refusal) verbatim, after its reason.
func describeError(err error) string {
	if text, ok := describeHinted(err); ok {
		return text
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		if s.Reason != "" {
			return fmt.Sprintf("Error from server (%s): %s", s.Reason, s.Message)
		}
		return "Error from server: " + s.Message
	}
	return "error: " + err.Error()
}
