package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// labelBench marks what the driver creates and watches: Deployments and
// UpdateRequests, with the scenario as value.
const labelBench = "bench.golive.dev/scenario"

// The scenarios, as values of labelBench.
const (
	scenarioRelease = "release"
	scenarioContent = "content"
	scenarioWaiting = "waiting"
)

// A content release carries, besides its image, a change of the
// configuration its Deployment reads and a migration Job, in namespaces a
// GoLivePolicy governs (issue #23's second row).
const (
	configName = "api-config"
	// migrationName names the migration; golive's Job is "migrate-" it.
	migrationName = "schema"
	// labelGoverned marks the production namespaces benchPolicy selects.
	labelGoverned = "bench.golive.dev/governed"
	policyName    = "bench-content"
)

// Each release updates one Deployment, the same in production and staging.
const (
	appName      = "api"
	appContainer = "api"
	imageRepo    = "bench.example.com/api"
	initialImage = imageRepo + ":1.0.0"
	windowName   = "bench"
	// verifyTimeout bounds each verification; production starts only with
	// this plus 15 minutes left in the window.
	verifyTimeout = 10 * time.Minute
	// waitingPerNamespace is how many waiting requests share a production
	// namespace, each with a Deployment of its own, as a team's releases would.
	waitingPerNamespace = 50
)

// The people, as the API server authenticates them (the driver impersonates
// them): alice requests, bob and carol approve in two roles, through
// golive's admission webhook.
const (
	alice            = "alice@example.com"
	bob              = "bob@example.com"
	carol            = "carol@example.com"
	roleRnDLead      = "rnd-lead"
	roleOperations   = "operations-office"
	approverCommands = "bench-approver-commands"
	requesterJobs    = "bench-requester-jobs"
)

// golive's ServiceAccount, as the audit log names it.
const goliveUser = "system:serviceaccount:golive-system:golive"

// auditPolicy logs golive's and Argo Rollouts' requests only, without
// bodies: cheap enough not to slow down the API server that the floor is
// measured on.
var auditPolicy = []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["` + goliveUser + `", "` + argoUser + `"]
- level: None
`)

// releaseNamespace is the production namespace of release i; its staging
// namespace is stagingOf it.
func releaseNamespace(i int) string { return fmt.Sprintf("rel-%04d", i) }

// contentNamespace is the production namespace of content release i.
func contentNamespace(i int) string { return fmt.Sprintf("cnt-%04d", i) }

// waitingNamespace is the production namespace of waiting request i.
func waitingNamespace(i int) string { return fmt.Sprintf("wait-%03d", i/waitingPerNamespace) }

// waitingDeployment is the Deployment waiting request i updates.
func waitingDeployment(i int) string { return fmt.Sprintf("api-%02d", i%waitingPerNamespace) }

func stagingOf(production string) string { return production + "-grey" }

// grantPeople gives the people their rights cluster-wide: alice edits
// requests (the chart's golive-updaterequest-editor) and may create Jobs,
// which the webhook asks of whoever adds migrations
// (docs/release-content.md); bob and carol hold their approval roles and
// may give commands.
func grantPeople(ctx context.Context, c client.Client) error {
	objects := []client.Object{
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: requesterJobs},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create"}}},
		},
		clusterRoleBinding(requesterJobs, alice),
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: approverCommands},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{golivev1alpha1.GroupVersion.Group}, Resources: []string{"updaterequests"}, Verbs: []string{"get", "list", "watch", "patch"}},
				{APIGroups: []string{golivev1alpha1.GroupVersion.Group}, Resources: []string{"golivewindows"}, Verbs: []string{"get", "list", "watch"}},
			},
		},
		clusterRoleBinding("golive-updaterequest-editor", alice),
		clusterRoleBinding(approverCommands, bob, carol),
	}
	for role, person := range map[string]string{roleRnDLead: bob, roleOperations: carol} {
		name := "bench-approver-" + role
		objects = append(objects,
			&rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{golivev1alpha1.GroupVersion.Group},
					Resources: []string{"approvalroles"}, ResourceNames: []string{role}, Verbs: []string{"approve"}}},
			},
			clusterRoleBinding(name, person))
	}
	for _, object := range objects {
		if err := c.Create(ctx, object); err != nil {
			return fmt.Errorf("creating %T %s: %w", object, object.GetName(), err)
		}
	}
	return nil
}

func clusterRoleBinding(clusterRole string, users ...string) *rbacv1.ClusterRoleBinding {
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-" + clusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
	}
	for _, user := range users {
		binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user})
	}
	return binding
}

// createNamespaces creates a production namespace with labels, its grey
// twin opted in as its staging namespace, and the production namespace's
// window.
func createNamespaces(ctx context.Context, c client.Client, production string, labels map[string]string, window golivev1alpha1.GoLiveWindowSpec) error {
	objects := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: production, Labels: labels}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: stagingOf(production),
			Labels: map[string]string{golivev1alpha1.LabelStagingFor: production}}},
		&golivev1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Name: windowName, Namespace: production}, Spec: window},
	}
	for _, object := range objects {
		if err := c.Create(ctx, object); err != nil {
			return fmt.Errorf("creating %T %s: %w", object, object.GetName(), err)
		}
	}
	return nil
}

// deployment runs initialImage on replicas.
func deployment(namespace, name, scenario string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{labelBench: scenario}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: appContainer, Image: initialImage}}},
			},
		},
	}
}

// readingConfig makes d's pods read configName's keys as environment
// variables: what a release's config change reaches.
func readingConfig(d *appsv1.Deployment) *appsv1.Deployment {
	d.Spec.Template.Spec.Containers[0].EnvFrom = configFrom()
	return d
}

func configFrom() []corev1.EnvFromSource {
	return []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: configName}}}}
}

// initialConfig is configName in namespace, as it is before any release.
func initialConfig(namespace string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configName, Namespace: namespace}, Data: map[string]string{"RELEASE": "initial"}}
}

// benchPolicy governs the content releases' namespaces: the approvals their
// requests ask for, nothing that would stop or slow a release (no
// supervision, acceptance, references or notice).
func benchPolicy() *golivev1alpha1.GoLivePolicy {
	return &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: policyName},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{labelGoverned: "true"}},
			Approvals:         &golivev1alpha1.PolicyApprovals{Required: requiredApprovals()},
		},
	}
}

// setImage changes a Deployment's image as a person or a pipeline would:
// the floor's bare update.
func setImage(ctx context.Context, c client.Client, key types.NamespacedName, image string) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []map[string]string{{"name": appContainer, "image": image}}}}}})
	if err != nil {
		return err
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	return c.Patch(ctx, d, client.RawPatch(types.StrategicMergePatchType, patch))
}

// updateRequest is alice's request to run image on Deployment target:
// staging and production verified by rollout health, approvals by an R&D
// lead and the operations office, the production namespace's window; no
// soak, no quiesce, no snapshot.
func updateRequest(production, name, target, image, scenario string) *golivev1alpha1.UpdateRequest {
	return &golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: production, Labels: map[string]string{labelBench: scenario}},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Release: image[len(imageRepo)+1:],
			Targets: []golivev1alpha1.Target{{Kind: golivev1alpha1.TargetDeployment, Name: target,
				Images: map[string]golivev1alpha1.Image{appContainer: golivev1alpha1.Image(image)}}},
			Staging: golivev1alpha1.Staging{Namespace: stagingOf(production),
				Verify: golivev1alpha1.Verification{Timeout: metav1.Duration{Duration: verifyTimeout}}},
			Approvals: golivev1alpha1.Approvals{Required: requiredApprovals()},
			Window:    golivev1alpha1.WindowReference{Name: windowName},
			Verify:    golivev1alpha1.Verification{Timeout: metav1.Duration{Duration: verifyTimeout}},
		},
	}
}

// requiredApprovals are the approvals of every request: an R&D lead and the
// operations office.
func requiredApprovals() []golivev1alpha1.RoleQuorum {
	return []golivev1alpha1.RoleQuorum{{Role: roleRnDLead, Count: 1}, {Role: roleOperations, Count: 1}}
}

// contentRequest is updateRequest carrying also a change of configName,
// different in each run (tag), and a migration Job, reading the release's
// configuration, that kwok completes.
func contentRequest(production, name, target, image, tag string) *golivev1alpha1.UpdateRequest {
	request := updateRequest(production, name, target, image, scenarioContent)
	request.Spec.Config = []golivev1alpha1.ConfigEntry{{Kind: golivev1alpha1.ConfigKindConfigMap, Name: configName,
		Data: map[string]string{"RELEASE": tag}}}
	request.Spec.Migrations = []golivev1alpha1.ReleaseJob{{Name: migrationName, Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
		BackoffLimit: ptr.To(int32(0)),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: migrationName, Image: image, Args: []string{"migrate"}, EnvFrom: configFrom()}}}},
	}}}}
	return request
}

// approve gives one approval as role through the admission webhook, as
// `kubectl golive approve` does: the approve annotation.
func approve(ctx context.Context, as client.Client, key types.NamespacedName, role string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		golivev1alpha1.AnnotationApprove: role + "; benchmark"}}})
	if err != nil {
		return err
	}
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	// A call to the webhook that failed in transit recorded nothing, so it is
	// retried, as a pipeline would (the API server does not retry a POST on a
	// reused connection that the webhook server closed).
	return retry.OnError(retry.DefaultBackoff, webhookCallFailed, func() error {
		return as.Patch(ctx, request, client.RawPatch(types.MergePatchType, patch))
	})
}

// webhookCallFailed tells an admission webhook call that failed in transit
// from a refusal.
func webhookCallFailed(err error) bool {
	return apierrors.IsInternalError(err) && strings.Contains(err.Error(), "failed to call webhook")
}

// setWindow replaces a window's spec.
func setWindow(ctx context.Context, c client.Client, namespace string, spec golivev1alpha1.GoLiveWindowSpec) error {
	var window golivev1alpha1.GoLiveWindow
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: windowName}, &window); err != nil {
		return err
	}
	base := window.DeepCopy()
	window.Spec = spec
	return c.Patch(ctx, &window, client.MergeFrom(base))
}

// deleteIgnoringGone deletes object; one already gone is fine.
func deleteIgnoringGone(ctx context.Context, c client.Client, object client.Object) error {
	if err := c.Delete(ctx, object); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// alwaysOpen is open at every instant: each day's opening lasts a week.
func alwaysOpen() golivev1alpha1.GoLiveWindowSpec {
	return golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC", Schedule: []golivev1alpha1.ScheduleEntry{{
		Days:     []golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
		Start:    "00:00",
		Duration: metav1.Duration{Duration: 168 * time.Hour},
	}}}
}

// closedUntilNextWeek opens for an hour, three days after now: closed now,
// whatever the time.
func closedUntilNextWeek(now time.Time) golivev1alpha1.GoLiveWindowSpec {
	return openingAt(now.UTC().AddDate(0, 0, 3).Truncate(24*time.Hour).Add(20*time.Hour), time.Hour)
}

// openingAt opens at opening, a whole minute in UTC, for duration.
func openingAt(opening time.Time, duration time.Duration) golivev1alpha1.GoLiveWindowSpec {
	opening = opening.UTC()
	return golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC", Schedule: []golivev1alpha1.ScheduleEntry{{
		Days:     []golivev1alpha1.Weekday{golivev1alpha1.Weekday(opening.Format("Mon"))},
		Start:    opening.Format("15:04"),
		Duration: metav1.Duration{Duration: duration},
	}}}
}
