package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// initOptions are the flags of init; empty ones are found in the namespace.
type initOptions struct {
	name, release, staging, window string
}

func newInitCommand(o *rootOptions) *cobra.Command {
	var flags initOptions
	cmd := &cobra.Command{
		Use:   "init [--name NAME] [--release R] [--staging NS] [--window W]",
		Short: "Print a commented UpdateRequest scaffold for the workloads of a namespace",
		Long: `Print an UpdateRequest for the namespace as YAML, with a comment on every
field, built from what runs there now: each Deployment, StatefulSet and
DaemonSet with its containers and their current images (the new images are
left empty for you to fill; delete the containers and targets that do not
change), the staging namespace that carries golive.dev/staging-for=<namespace>,
the namespace's GoLiveWindow, and the approval roles of the newest request in
the namespace. Once the images are filled, the API server accepts it as it is;
read it through before you create it.`,
		Example: `  kubectl golive init -n billing --release 2.4.0 > billing-2-4-0.yaml
  kubectl golive init -n billing --release 2.4.0 --staging billing-grey --window thursday-evening`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			namespace, err := o.namespace()
			if err != nil {
				return err
			}
			scaffold, err := readScaffold(cmd.Context(), c, namespace, flags)
			if err != nil {
				return err
			}
			return writeScaffold(o.streams.Out, scaffold)
		},
	}
	cmd.Flags().StringVar(&flags.name, "name", "", "The request's name (default: <namespace>-<release>).")
	cmd.Flags().StringVar(&flags.release, "release", "", "The version being rolled out (left empty to fill when not given).")
	cmd.Flags().StringVar(&flags.staging, "staging", "", "The staging namespace (default: the one labelled golive.dev/staging-for=<namespace>).")
	cmd.Flags().StringVar(&flags.window, "window", "", "The GoLiveWindow (default: the namespace's, the first by name).")
	return cmd
}

// scaffold is what init found in the namespace, for writeScaffold.
type scaffold struct {
	Namespace, Name, Release string
	Targets                  []scaffoldTarget
	// Staging and Window are empty when none was given or found; the notes say why.
	Staging, StagingNote string
	Window, WindowNote   string
	// Approvals are the newest request's quorums, ApprovalsFrom its name;
	// empty when the namespace has no request.
	Approvals     []golivev1alpha1.RoleQuorum
	ApprovalsFrom string
	Acceptance    *golivev1alpha1.Acceptance
}

// scaffoldTarget is a workload with the images its containers run now.
type scaffoldTarget struct {
	Kind       golivev1alpha1.TargetKind
	Name       string
	Containers []scaffoldContainer
}

type scaffoldContainer struct {
	Name, Image string
	Init        bool
}

// readScaffold reads the namespace's workloads, staging namespace, windows
// and newest request. The workloads are required; the rest is looked up and,
// when it cannot be read, left for the person with a note.
func readScaffold(ctx context.Context, c client.Client, namespace string, flags initOptions) (scaffold, error) {
	s := scaffold{Namespace: namespace, Release: strings.TrimSpace(flags.release), Name: flags.name, Staging: flags.staging, Window: flags.window}
	if s.Name == "" {
		s.Name = requestName(namespace, s.Release)
	}
	var err error
	if s.Targets, err = readTargets(ctx, c, namespace); err != nil {
		return s, err
	}
	if s.Staging == "" {
		s.Staging, s.StagingNote = findStaging(ctx, c, namespace)
	}
	if s.Window == "" {
		s.Window, s.WindowNote = findWindow(ctx, c, namespace)
	}
	var requests golivev1alpha1.UpdateRequestList
	if err := c.List(ctx, &requests, client.InNamespace(namespace)); err == nil && len(requests.Items) > 0 {
		newest := slices.MaxFunc(requests.Items, func(a, b golivev1alpha1.UpdateRequest) int {
			return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
		})
		s.Approvals, s.ApprovalsFrom, s.Acceptance = newest.Spec.Approvals.Required, newest.Name, newest.Spec.Acceptance
	}
	return s, nil
}

// readTargets lists the namespace's Deployments, StatefulSets and DaemonSets
// with their containers, init containers included, each kind by name.
func readTargets(ctx context.Context, c client.Client, namespace string) ([]scaffoldTarget, error) {
	var targets []scaffoldTarget
	add := func(kind golivev1alpha1.TargetKind, name string, pod *corev1.PodSpec) {
		target := scaffoldTarget{Kind: kind, Name: name}
		for _, container := range pod.InitContainers {
			target.Containers = append(target.Containers, scaffoldContainer{Name: container.Name, Image: container.Image, Init: true})
		}
		for _, container := range pod.Containers {
			target.Containers = append(target.Containers, scaffoldContainer{Name: container.Name, Image: container.Image})
		}
		targets = append(targets, target)
	}
	var deployments appsv1.DeploymentList
	if err := c.List(ctx, &deployments, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the Deployments of namespace %s: %w", namespace, err)
	}
	for _, d := range deployments.Items {
		add(golivev1alpha1.TargetDeployment, d.Name, &d.Spec.Template.Spec)
	}
	var statefulSets appsv1.StatefulSetList
	if err := c.List(ctx, &statefulSets, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the StatefulSets of namespace %s: %w", namespace, err)
	}
	for _, s := range statefulSets.Items {
		add(golivev1alpha1.TargetStatefulSet, s.Name, &s.Spec.Template.Spec)
	}
	var daemonSets appsv1.DaemonSetList
	if err := c.List(ctx, &daemonSets, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the DaemonSets of namespace %s: %w", namespace, err)
	}
	for _, d := range daemonSets.Items {
		add(golivev1alpha1.TargetDaemonSet, d.Name, &d.Spec.Template.Spec)
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("namespace %s has no Deployment, StatefulSet or DaemonSet to update; init scaffolds a request from them (-n names the namespace)", namespace)
	}
	return targets, nil
}

// findStaging is the namespace opted in as namespace's grey environment, or a note why there is none.
func findStaging(ctx context.Context, c client.Client, namespace string) (string, string) {
	var namespaces corev1.NamespaceList
	if err := c.List(ctx, &namespaces, client.MatchingLabels{golivev1alpha1.LabelStagingFor: namespace}); err != nil {
		return "", "could not list namespaces (" + oneLine(err.Error()) + "): name the staging namespace"
	}
	var names []string
	for _, ns := range namespaces.Items {
		if golivev1alpha1.StagingOptedIn(ns.Name, ns.Labels, namespace) {
			names = append(names, ns.Name)
		}
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		return "", "no namespace carries " + golivev1alpha1.LabelStagingFor + "=" + namespace + ": label the grey environment's namespace so, and name it here"
	case 1:
		return names[0], ""
	}
	return names[0], "also opted in: " + strings.Join(names[1:], ", ")
}

// findWindow is the namespace's window, the first by name, or a note why there is none.
func findWindow(ctx context.Context, c client.Client, namespace string) (string, string) {
	var windows golivev1alpha1.GoLiveWindowList
	if err := c.List(ctx, &windows, client.InNamespace(namespace)); err != nil {
		return "", "could not list GoLiveWindows (" + oneLine(err.Error()) + "): name the window"
	}
	var names []string
	for _, w := range windows.Items {
		names = append(names, w.Name)
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		return "", "namespace " + namespace + " has no GoLiveWindow: create one (docs/window.md) and name it here"
	case 1:
		return names[0], ""
	}
	return names[0], "the namespace's windows: " + strings.Join(names, ", ")
}

var notNameCharacters = regexp.MustCompile(`[^a-z0-9]+`)

// requestName is "<namespace>-<release>" as a DNS label of at most 63
// characters, "billing-2-4-0"; "<namespace>-update" without a release.
func requestName(namespace, release string) string {
	suffix := strings.Trim(notNameCharacters.ReplaceAllString(strings.ToLower(release), "-"), "-")
	if suffix == "" {
		suffix = "update"
	}
	name := namespace + "-" + suffix
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	return name
}
