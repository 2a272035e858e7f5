package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/namespaces"
	"github.com/golive-dev/golive/internal/releasecontent"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
)

// observe reads what the lifecycle decides on: the references, both
// environments' targets and verification, the verified ledger and the backup
// (backup.go), each only when lifecycle.ObservationsNeeded asks for it.
// It changes nothing in the cluster; the only outside calls are the HTTP
// checks that are due.
func (r *UpdateRequestReconciler) observe(ctx context.Context, request *golivev1alpha1.UpdateRequest, now time.Time) (lifecycle.World, []ledger.RejectedEntry, error) {
	world := lifecycle.World{
		SpecHash:    ledger.SpecHash(&request.Spec),
		RequestedBy: request.Annotations[golivev1alpha1.AnnotationRequestedBy],
		SubmittedBy: request.Annotations[golivev1alpha1.AnnotationSubmittedBy],
	}

	// The same check the admission webhook makes, repeated for a label removed since.
	switch err := namespaces.CheckStaging(ctx, r.Client, request); {
	case err == nil:
		world.StagingNamespace = lifecycle.NamespaceObservation{Found: true, OptedIn: true}
	case errors.Is(err, namespaces.ErrStagingNotOptedIn):
		world.StagingNamespace = lifecycle.NamespaceObservation{Found: true}
	case !errors.Is(err, namespaces.ErrStagingNamespaceNotFound):
		return world, nil, err
	}

	var glw golivev1alpha1.GoLiveWindow
	switch err := r.Get(ctx, types.NamespacedName{Namespace: request.Namespace, Name: request.Spec.Window.Name}, &glw); {
	case err == nil:
		world.Window = lifecycle.WindowObservation{Found: true, Spec: glw.Spec, ActiveUpdates: glw.Status.ActiveUpdates, EmergencyUsed: glw.Status.EmergencyUsed}
	case !apierrors.IsNotFound(err):
		return world, nil, fmt.Errorf("getting GoLiveWindow %s: %w", request.Spec.Window.Name, err)
	}

	needs := lifecycle.ObservationsNeeded(request, world.SpecHash)
	if needs.LockHolder {
		var others golivev1alpha1.UpdateRequestList
		// Read only: the cache's objects are not copied.
		if err := r.List(ctx, &others, client.InNamespace(request.Namespace), client.UnsafeDisableDeepCopy); err != nil {
			return world, nil, fmt.Errorf("listing the update requests of namespace %s: %w", request.Namespace, err)
		}
		world.Lock = lifecycle.LockHolder(request, others.Items)
	}

	var err error
	if needs.Config {
		if world.Config.Copies, world.Config.Problems, err = workload.ResolveConfig(ctx, r.LiveReader, request); err != nil {
			return world, nil, err
		}
	}
	renames := workload.Renames(world.Config.Copies)
	if needs.StagingTargets {
		if world.Staging.Targets, err = r.observeTargets(ctx, request, request.Spec.Staging.Namespace, "", renames); err != nil {
			return world, nil, err
		}
	}
	if world.StagingSavedSpecs.Name, world.StagingSavedSpecs.NotOurs, world.StagingSavedSpecs.Complete, err =
		workload.ObserveStagingSavedSpecs(ctx, r.Client, r.LedgerKey, request); err != nil {
		return world, nil, err
	}
	if needs.StagingRestore && world.StagingSavedSpecs.Name != "" {
		if err := r.observeStagingRestore(ctx, request, world.Staging.Targets); err != nil {
			return world, nil, err
		}
	}
	if needs.ProductionTargets {
		savedSpecs := ""
		if needs.SavedSpecRestored {
			savedSpecs = request.Status.Backup.SavedSpecs
		}
		if world.Production.Targets, err = r.observeTargets(ctx, request, request.Namespace, savedSpecs, renames); err != nil {
			return world, nil, err
		}
	}
	if needs.StagingContent {
		if err := r.observeContent(ctx, request, verify.EnvironmentStaging, request.Spec.Staging.Namespace,
			world.Config.Copies, request.Status.Staging, &world.Staging); err != nil {
			return world, nil, err
		}
	}
	if needs.ProductionContent {
		if err := r.observeContent(ctx, request, verify.EnvironmentProduction, request.Namespace,
			world.Config.Copies, request.Status.Production, &world.Production); err != nil {
			return world, nil, err
		}
	}
	switch {
	case needs.StagingVerification:
		world.Staging.Verification, err = r.observeVerification(ctx, request, verify.EnvironmentStaging, request.Spec.Staging.Namespace,
			request.Spec.Staging.Verify, request.Status.Staging, world.Staging.Targets, now)
	case needs.ProductionVerification:
		world.Production.Verification, err = r.observeVerification(ctx, request, verify.EnvironmentProduction, request.Namespace,
			request.Spec.Verify, request.Status.Production, world.Production.Targets, now)
	}
	if err != nil {
		return world, nil, err
	}

	valid, rejected := ledger.Verify(r.LedgerKey, request, world.SpecHash)
	for _, entry := range valid {
		action, err := commandActionOf(entry.Action)
		if err != nil {
			return world, nil, err
		}
		world.Commands = append(world.Commands, lifecycle.Command{
			Action: action, User: entry.User, Role: entry.Role, Comment: entry.Comment, At: entry.Time.Time,
		})
	}

	// Only the facts golive signed for this request count, never status.phase.
	world.Attested = lifecycle.AttestedFrom(ledger.VerifiedGateRecords(r.LedgerKey, request), world.SpecHash)
	if err := r.observePolicies(ctx, request, &world); err != nil {
		return world, nil, err
	}

	if err := r.observeBackup(ctx, request, needs, &world); err != nil {
		return world, nil, err
	}
	if err := r.observeDataJobs(ctx, request, needs, &world); err != nil {
		return world, nil, err
	}
	return world, rejected, nil
}

// observeTargets reads each target in namespace; with savedSpecs it also tells
// whether the target runs its saved previous spec again. A target has the
// release applied when it runs the new images and references the copies of
// renames (the release's configuration).
func (r *UpdateRequestReconciler) observeTargets(ctx context.Context, request *golivev1alpha1.UpdateRequest, namespace, savedSpecs string,
	renames releasecontent.Renames) ([]lifecycle.TargetObservation, error) {
	observations := make([]lifecycle.TargetObservation, len(request.Spec.Targets))
	for i, target := range request.Spec.Targets {
		object, err := workload.Get(ctx, r.Client, target, namespace)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		health := workload.Rollout(object)
		state, err := healthOf(health.State)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", target.Kind, target.Name, err)
		}
		observation := lifecycle.TargetObservation{
			Found:             true,
			MissingContainers: workload.MissingContainers(object, target.Images),
			ImagesApplied:     workload.ImagesApplied(object, target.Images) && workload.ConfigApplied(object, renames),
			Replicas:          workload.DesiredReplicas(object),
			Health:            state,
			Message:           health.Message,
		}
		if savedSpecs != "" {
			saved, err := workload.LoadSavedSpec(ctx, r.Client, r.LedgerKey, request, savedSpecs, namespace, target)
			if err != nil {
				return nil, err
			}
			// The whole pod template, which the cache does not hold.
			live, err := workload.Get(ctx, r.LiveReader, target, namespace)
			if err != nil {
				return nil, err
			}
			observation.Restored = workload.Restored(live, saved)
		}
		observations[i] = observation
	}
	return observations, nil
}

// observeStagingRestore tells, for each staging target found, whether the
// staging saved specs hold its spec and whether it runs that spec again.
func (r *UpdateRequestReconciler) observeStagingRestore(ctx context.Context, request *golivev1alpha1.UpdateRequest, targets []lifecycle.TargetObservation) error {
	for i, target := range request.Spec.Targets {
		if i >= len(targets) || !targets[i].Found {
			continue
		}
		restored, saved, err := workload.StagingRestored(ctx, r.Client, r.LiveReader, r.LedgerKey, request, target)
		if err != nil {
			return err
		}
		targets[i].Restored, targets[i].Saved = restored, saved
	}
	return nil
}

// observeVerification records the rollout check, reads the verification Jobs,
// probes the HTTP checks and measures the metric checks that are due, and
// evaluates the whole.
func (r *UpdateRequestReconciler) observeVerification(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace string,
	spec golivev1alpha1.Verification, record *golivev1alpha1.EnvironmentStatus,
	targets []lifecycle.TargetObservation, now time.Time) (lifecycle.VerificationObservation, error) {
	started := lifecycle.VerificationStart(request, lifecycle.Environment(env))
	checks := verify.SetCheck(record.Checks, rolloutCheck(request, targets))
	var planted []string
	for _, job := range spec.Jobs {
		if verify.IsFinal(verify.FindCheck(checks, job.Name)) {
			continue
		}
		state, err := r.jobCheck(ctx, request, r.seal(request, env), env, namespace, job, verify.FindCheck(record.Checks, job.Name))
		if err != nil {
			return lifecycle.VerificationObservation{}, err
		}
		if state.Result == golivev1alpha1.CheckPending && state.Message != "" {
			planted = append(planted, state.Message)
		}
		checks = verify.SetCheck(checks, state)
	}
	due := verify.ProbesDue(now, started, spec, checks)
	for i, result := range verify.ProbeAll(ctx, r.HTTPClient, due) {
		checks = verify.SetCheck(checks, verify.NextHTTPState(verify.FindCheck(checks, due[i].Name), due[i], now, result))
	}
	// Measurements go into the status this reconcile patches, before any
	// action they lead to: one lost to a crash is taken again, never counted twice.
	queries := r.metricQueries(ctx, request, env, namespace, verify.MetricsDue(now, started, spec, checks))
	for i, result := range verify.QueryAll(ctx, r.HTTPClient, queries) {
		check := queries[i].Check
		checks = verify.SetCheck(checks, verify.NextMetricState(verify.FindCheck(checks, check.Name), check, verify.Measure(check, now, result)))
	}
	outcome := verify.Evaluate(now, started, spec, checks)
	observation := lifecycle.VerificationObservation{Message: outcome.Message, Checks: outcome.Checks, NextProbeAt: outcome.WakeAt}
	observation.Planted = planted
	switch outcome.Result {
	case golivev1alpha1.CheckPassed:
		observation.State = lifecycle.VerificationPassed
	case golivev1alpha1.CheckFailed:
		observation.State = lifecycle.VerificationFailed
	case golivev1alpha1.CheckInconclusive:
		observation.State = lifecycle.VerificationInconclusive
	default:
		observation.State = lifecycle.VerificationRunning
	}
	return observation, nil
}

// jobCheck reads the Job of a check; a Job not created yet is Pending (the
// VerifyStaging/VerifyProduction action ensures it). A Job at that name that
// golive did not make for this request and spec is never counted: the check
// stays Pending with a message naming the Job and why, and a Warning Event
// PlantedObject is recorded when the check first says so.
func (r *UpdateRequestReconciler) jobCheck(ctx context.Context, request *golivev1alpha1.UpdateRequest, seal verify.Seal, env, namespace string,
	job golivev1alpha1.VerificationJob, previous verify.CheckState) (verify.CheckState, error) {
	pending := verify.CheckState{Name: job.Name, Result: golivev1alpha1.CheckPending}
	var existing batchv1.Job
	err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: verify.AttemptJobName(request.Name, env, job.Name, seal.SpecHash, seal.Attempt)}, &existing)
	if apierrors.IsNotFound(err) {
		return pending, nil
	}
	if err != nil {
		return pending, fmt.Errorf("getting the verification Job of check %s: %w", job.Name, err)
	}
	switch err := verify.CheckJob(seal, request, env, job, &existing); {
	case errors.Is(err, verify.ErrForeignJob):
		pending.Message = err.Error()
		if previous.Message != pending.Message {
			r.Recorder.Eventf(request, &existing, corev1.EventTypeWarning, golivev1alpha1.ReasonPlantedObject, "Verify", "%s", pending.Message)
		}
		return pending, nil
	case errors.Is(err, verify.ErrStaleJob):
		// Golive's own, left over: the action deletes it and creates the new one.
		return pending, nil
	case err != nil:
		return pending, err
	}
	state := verify.JobResult(&existing)
	state.Name = job.Name
	return state, nil
}

// seal is what golive signs the verification Jobs of request in env with,
// for its current spec and verification attempt.
func (r *UpdateRequestReconciler) seal(request *golivev1alpha1.UpdateRequest, env string) verify.Seal {
	return verify.Seal{Key: r.LedgerKey, SpecHash: ledger.SpecHash(&request.Spec),
		Attempt: lifecycle.VerificationAttempt(request, lifecycle.Environment(env))}
}

// rolloutCheck is the check "rollout": every target runs the new images and
// rolled out. Until then nothing else is checked, so no check ever sees the
// previous version.
func rolloutCheck(request *golivev1alpha1.UpdateRequest, targets []lifecycle.TargetObservation) verify.CheckState {
	check := verify.CheckState{Name: golivev1alpha1.RolloutCheckName, Result: golivev1alpha1.CheckPassed, Message: "Every target rolled out"}
	for i, target := range targets {
		spec := request.Spec.Targets[i]
		switch {
		case !target.ImagesApplied:
			return verify.CheckState{Name: check.Name, Result: golivev1alpha1.CheckRunning, Message: fmt.Sprintf("%s %q does not run the new images yet", spec.Kind, spec.Name)}
		case target.Health == lifecycle.Failed:
			return verify.CheckState{Name: check.Name, Result: golivev1alpha1.CheckFailed, Message: fmt.Sprintf("%s %q: %s", spec.Kind, spec.Name, target.Message)}
		case target.Health == lifecycle.Progressing:
			// Without the rollout's counts: each tick would be a status write.
			check = verify.CheckState{Name: check.Name, Result: golivev1alpha1.CheckRunning, Message: fmt.Sprintf("%s %q is rolling out", spec.Kind, spec.Name)}
		}
	}
	return check
}

// metricQueries renders the queries of the metric checks due in env and
// reads the bearer tokens of their secretRefs. A query that cannot be sent
// carries why, and its measurement is inconclusive.
func (r *UpdateRequestReconciler) metricQueries(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace string,
	due []golivev1alpha1.MetricCheck) []verify.MetricQuery {
	targets := make([]string, len(request.Spec.Targets))
	for i, target := range request.Spec.Targets {
		targets[i] = target.Name
	}
	vars := verify.NewQueryVars(namespace, request.Name, env, targets)
	queries := make([]verify.MetricQuery, len(due))
	for i, check := range due {
		queries[i].Check = check
		query, err := verify.RenderQuery(check.Query, vars)
		if err != nil {
			queries[i].Error = err.Error()
			continue
		}
		queries[i].Query = query
		if ref := check.Prometheus.SecretRef; ref != nil {
			queries[i].Token, queries[i].Error = r.bearerToken(ctx, request.Namespace, ref)
		}
	}
	return queries
}

// bearerToken reads the key of ref, in namespace, with a direct get: golive
// reads no other Secret of the namespace. It returns the token, or why there is none.
func (r *UpdateRequestReconciler) bearerToken(ctx context.Context, namespace string, ref *golivev1alpha1.SecretKeySelector) (string, string) {
	var secret corev1.Secret
	err := r.LiveReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, &secret)
	switch {
	case apierrors.IsForbidden(err):
		return "", fmt.Sprintf("golive may not read Secret %s/%s named by secretRef: grant its ServiceAccount get on it, as docs/verification.md shows", namespace, ref.Name)
	case apierrors.IsNotFound(err):
		return "", fmt.Sprintf("Secret %s/%s, named by secretRef, does not exist", namespace, ref.Name)
	case err != nil:
		return "", fmt.Sprintf("getting Secret %s/%s: %v", namespace, ref.Name, err)
	}
	token := strings.TrimSpace(string(secret.Data[ref.Key]))
	if token == "" {
		return "", fmt.Sprintf("Secret %s/%s has no key %q, or it is empty", namespace, ref.Name, ref.Key)
	}
	return token, ""
}
