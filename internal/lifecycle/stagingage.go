package lifecycle

import (
	"fmt"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
)

// StagingMaxAge is the policies' staging.maxAge and the policy that sets it:
// production starts only within After of staging's last verification, else
// staging is verified again first. Zero: staging does not age.
type StagingMaxAge struct {
	After  time.Duration
	Policy string
}

// stagingTooOld reports whether staging was verified longer ago than the
// policies allow at the moment production would start. A staging
// verification is evidence about what the grey environment ran then; a
// policy says for how long that evidence holds.
func stagingTooOld(world World, now time.Time) (lastVerified time.Time, tooOld bool) {
	maxAge, last := world.StagingMaxAge, world.Attested.StagingVerifiedAt
	if maxAge.After <= 0 || last.IsZero() {
		return last, false
	}
	return last, now.After(last.Add(maxAge.After))
}

// staleStagingMessage says why production waits for staging, for the
// timeline and for the production gate.
func staleStagingMessage(maxAge StagingMaxAge, lastVerified time.Time) string {
	return fmt.Sprintf("staging was last verified at %s, longer ago than %s (policy %s staging.maxAge)",
		lastVerified.UTC().Format(time.RFC3339), durationfmt.Readable(maxAge.After), maxAge.Policy)
}

// reverifyStagingIfTooOld sends a request whose production would start now
// back to VerifyingStaging when staging was verified longer ago than the
// policies allow: the checks run again, from scratch, against what the grey
// environment runs now. The soak and the approvals stand; once staging
// passes again the request is Scheduled again. It reports whether it did.
func (d *decider) reverifyStagingIfTooOld() bool {
	last, tooOld := stagingTooOld(d.world, d.now)
	if !tooOld {
		return false
	}
	staging := d.status.Staging
	staging.Reverifications++
	staging.ReverificationStartedAt = d.timestamp()
	staging.Checks = nil
	d.enter(golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.ReasonStagingTooOld,
		"Production would start, but "+staleStagingMessage(d.world.StagingMaxAge, last)+": verifying staging again first")
	return true
}

// reverifying reports whether the staging verification under way is a
// verification again (reverifyStagingIfTooOld), not the first.
func reverifying(status *golivev1alpha1.UpdateRequestStatus) bool {
	staging := status.Staging
	return staging != nil && staging.Reverifications > 0 && staging.ReverificationStartedAt != nil &&
		(staging.ReverifiedAt == nil || staging.ReverifiedAt.Before(staging.ReverificationStartedAt))
}

// VerificationAttempt numbers env's verification for the current spec: 0 the
// first, n the nth time staging is verified again. The controller names the
// check Jobs after it, so a Job of an earlier verification is never counted.
func VerificationAttempt(request *golivev1alpha1.UpdateRequest, env Environment) int32 {
	if env != Staging || request.Status.Staging == nil {
		return 0
	}
	return request.Status.Staging.Reverifications
}
