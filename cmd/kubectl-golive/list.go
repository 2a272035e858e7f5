package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	kubeduration "k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func newListCommand(o *rootOptions) *cobra.Command {
	flags := printFlags(o.scheme)
	scope := &namespaceScope{rootOptions: o}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List update requests with what each waits for, those that need a person first",
		Long: `List the update requests of the namespace (or of all namespaces with -A)
with their phase and what each waits for now: a person (a stalled or
suspended request, with golive's message), approvals still missing per role,
the acceptance, the end of the soak, the window's opening, or golive's work
in the phase. Requests that need a person come first, then those still
running, then those that ended. With -o the UpdateRequest list is printed
instead, in the same order.`,
		Example: `  kubectl golive list -n billing
  kubectl golive list -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			printer, err := objectPrinter(flags)
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			requests, list, err := scope.listRequests(cmd.Context(), c)
			if err != nil {
				return err
			}
			if printer != nil {
				return printRequests(printer, *flags.OutputFormat, requests, list, o.streams.Out)
			}
			if len(requests) == 0 {
				_, err := fmt.Fprintln(o.streams.ErrOut, "No UpdateRequests found.")
				return err
			}
			return writeList(o.streams.Out, requests, o.clock.Now(), scope.all)
		},
	}
	flags.AddFlags(cmd)
	scope.addFlags(cmd, "List the requests of all namespaces.")
	return cmd
}

// namespaceScope is -n or -A for the commands that list requests.
type namespaceScope struct {
	*rootOptions
	all bool
}

func (s *namespaceScope) addFlags(cmd *cobra.Command, usage string) {
	cmd.Flags().BoolVarP(&s.all, "all-namespaces", "A", false, usage)
}

func (s *namespaceScope) listOptions() ([]client.ListOption, error) {
	if s.all {
		return nil, nil
	}
	namespace, err := s.namespace()
	if err != nil {
		return nil, err
	}
	return []client.ListOption{client.InNamespace(namespace)}, nil
}

// listRequests reads the requests in scope and the windows they name, in
// list's order. The windows are extra information: without the right to read
// them, an emergency quorum names no roles and times show in UTC.
func (s *namespaceScope) listRequests(ctx context.Context, c client.Client) ([]listedRequest, *golivev1alpha1.UpdateRequestList, error) {
	options, err := s.listOptions()
	if err != nil {
		return nil, nil, err
	}
	var list golivev1alpha1.UpdateRequestList
	if err := c.List(ctx, &list, options...); err != nil {
		return nil, nil, err
	}
	windows := map[string]*golivev1alpha1.GoLiveWindow{}
	var windowList golivev1alpha1.GoLiveWindowList
	if err := c.List(ctx, &windowList, options...); err == nil {
		for i := range windowList.Items {
			w := &windowList.Items[i]
			windows[w.Namespace+"/"+w.Name] = w
		}
	}
	requests := make([]listedRequest, 0, len(list.Items))
	for i := range list.Items {
		requests = append(requests, newListedRequest(&list.Items[i], windows))
	}
	slices.SortStableFunc(requests, listOrder)
	return requests, &list, nil
}

// printRequests prints the requests in list's order as the list object, or
// one by one for -o name, as kubectl get does.
func printRequests(printer printers.ResourcePrinter, format string, requests []listedRequest, list *golivev1alpha1.UpdateRequestList, out io.Writer) error {
	items := make([]golivev1alpha1.UpdateRequest, 0, len(requests))
	for _, r := range requests {
		items = append(items, *r.Request)
	}
	if format != "name" {
		list.Items = items
		return printer.PrintObj(list, out)
	}
	for i := range items {
		if err := printer.PrintObj(&items[i], out); err != nil {
			return err
		}
	}
	return nil
}

// writeList writes the table of list.
func writeList(out io.Writer, requests []listedRequest, now time.Time, withNamespace bool) error {
	tw := printers.GetNewTabWriter(out)
	if withNamespace {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "NAME\tRELEASE\tPHASE\tWAITS FOR\tAGE")
	for _, r := range requests {
		request := r.Request
		if withNamespace {
			fmt.Fprintf(tw, "%s\t", request.Namespace)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", request.Name, oneLine(request.Spec.Release), orDash(string(request.Status.Phase)),
			r.waitsFor(now), age(request.CreationTimestamp.Time, now))
	}
	return tw.Flush()
}

// age is how long ago t was, as kubectl's AGE column shows it.
func age(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return kubeduration.HumanDuration(now.Sub(t))
}
