// Package verify checks an environment after its targets were updated: the
// rollout health the controller records as the check "rollout", verification
// Jobs, and HTTP checks, all within the verification's timeout.
//
// Nothing here keeps state in memory or outlives a call: progress lives in the
// checks recorded in status ([CheckState]), and every object has a
// deterministic name, so a controller killed at any instant resumes where it
// stood. One reconcile of a verification goes:
//
//	now := clock.Now()
//	for _, job := range verify.JobsDue(now, startedAt, spec, checks) {
//		j, err := verify.EnsureJob(ctx, c, scheme, request, env, namespace, job)
//		...
//		checks = verify.SetCheck(checks, verify.JobResult(j))
//	}
//	due := verify.ProbesDue(now, startedAt, spec, checks)
//	for i, result := range verify.ProbeAll(ctx, httpClient, due) {
//		prev := verify.FindCheck(checks, due[i].Name)
//		checks = verify.SetCheck(checks, verify.NextHTTPState(prev, due[i], now, result))
//	}
//	outcome := verify.Evaluate(now, startedAt, spec, checks)
//	// record outcome.Checks; Running: requeue after outcome.RequeueAfter
//
// The rules, each covered by tests:
//
//   - The check "rollout" gates the others: no Job is created and no URL is
//     probed before it passed, as the rollout of every target is checked first.
//   - A Job passes when its Complete condition is True and fails when its
//     Failed condition is True; a failed Job fails the verification at once.
//   - An HTTP check passes after successThreshold answers in a row with a status
//     in expectStatus, probed once per period. A wrong status or no answer resets
//     the count but does not fail the check: services are often unready for a
//     while after a rollout. Only the verification's timeout fails it, except a
//     URL that cannot even be made into a request, which fails at once.
//   - Redirects are followed (up to 10), as kubelet and most health checkers do,
//     unless expectStatus lists a 3xx code: then the first answer counts, so a
//     redirect itself can be the expected answer.
//   - A verification passes when every check passed, fails when one failed, and
//     fails when its timeout passed first. Results recorded before the deadline
//     count even when evaluated after it (a controller that was down must not
//     fail a release for its own absence), but no Job is started and no URL is
//     probed after the deadline.
//   - Once a check is Passed or Failed it is final: its Job is not ensured again
//     (a ttlSecondsAfterFinished in the template may delete it) and its URL is
//     not probed again.
package verify
