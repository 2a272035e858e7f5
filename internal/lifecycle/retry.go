package lifecycle

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// pendingRetry is the golive.dev/retry command that restarts the
// environment's inconclusive verification now: the newest retry, signed
// since the request stalled as VerificationInconclusive and after the retry
// the environment last acted on (record.RetriedAt). Both times come from what
// golive signed and recorded, so a retry is acted on once, also across a
// crash, and a retry given for an earlier stall, or in staging, never
// restarts a later one.
func (d *decider) pendingRetry(record *golivev1alpha1.EnvironmentStatus) (Command, bool) {
	retry, ok := d.lastCommand(ActionRetry, "")
	if !ok {
		return Command{}, false
	}
	stall := inconclusiveStall(&d.status)
	if stall == nil || retry.At.Before(stall.LastTransitionTime.Truncate(time.Second)) {
		return Command{}, false
	}
	if record.RetriedAt != nil && !retry.At.Truncate(time.Second).After(record.RetriedAt.Truncate(time.Second)) {
		return Command{}, false
	}
	return retry, true
}

// retryVerification starts env's verification again for retry: the
// inconclusive checks are dropped with their measurements and measure anew,
// verify.timeout counts from the retry (verificationStart), and the stall
// clears. The checks that passed stand.
func (d *decider) retryVerification(env environment, record *golivev1alpha1.EnvironmentStatus, retry Command) {
	record.Checks = slices.DeleteFunc(slices.Clone(record.Checks), func(check golivev1alpha1.CheckStatus) bool {
		return check.Result == golivev1alpha1.CheckInconclusive
	})
	record.RetriedAt = &metav1.Time{Time: retry.At}
	message := fmt.Sprintf("%s verification retried by %s", env.name, retry.User) + withComment(retry.Comment, "without a comment")
	d.status.Timeline = append(d.status.Timeline, golivev1alpha1.TimelineEntry{
		At: metav1.NewTime(d.now), Phase: d.status.Phase, Actor: retry.User, Event: golivev1alpha1.ReasonVerificationRetried, Message: message,
	})
	d.trimTimeline()
	d.events = append(d.events, Event{Reason: golivev1alpha1.ReasonVerificationRetried, Message: message, Phase: d.status.Phase})
	// The checks measure again in the next observation, from the status this decision records.
	d.observeAgain = true
	d.progress(golivev1alpha1.ReasonProgressing, message)
}
