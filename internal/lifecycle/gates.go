package lifecycle

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

// GateRecordLimit bounds status.gateRecords: a request records a few per spec.
const GateRecordLimit = 16

// Attested are the facts golive recorded, signed, for the current spec hash.
// The controller passes only records whose signature it verified; status.phase
// and the rest of the status prove nothing, since someone else may have written them.
type Attested struct {
	// StagingVerifiedAt is when golive last recorded staging verified for the current spec; zero when it did not.
	StagingVerifiedAt time.Time
	// StagingFirstVerifiedAt is when it first did, among the records kept:
	// the soak counts from it when staging was verified again.
	StagingFirstVerifiedAt time.Time
	// ProductionStarted is true when golive recorded that it started production for the current spec.
	ProductionStarted bool
}

// AttestedFrom reads the facts of verified, records whose signatures the caller
// checked, for the spec with hash specHash.
func AttestedFrom(verified []golivev1alpha1.GateRecord, specHash string) Attested {
	var attested Attested
	for _, record := range verified {
		if record.SpecHash != specHash {
			continue
		}
		switch record.Gate {
		case golivev1alpha1.GateStagingVerified:
			if attested.StagingFirstVerifiedAt.IsZero() || record.At.Time.Before(attested.StagingFirstVerifiedAt) {
				attested.StagingFirstVerifiedAt = record.At.Time
			}
			if record.At.Time.After(attested.StagingVerifiedAt) {
				attested.StagingVerifiedAt = record.At.Time
			}
		case golivev1alpha1.GateProductionStarted:
			attested.ProductionStarted = true
		}
	}
	return attested
}

// ProductionGates re-derives, at the moment production would start, every
// gate from what golive can verify: its signed records, the verified ledger,
// the window's spec (not its status) and the request's spec. It returns the
// gates not met, each a message naming it; none when production may start.
// It trusts nothing of the request's status.
func ProductionGates(request *golivev1alpha1.UpdateRequest, world World, now time.Time) []string {
	spec := &request.Spec
	emergency := spec.Emergency != nil
	var unmet []string
	verifiedAt := world.Attested.StagingFirstVerifiedAt
	switch {
	case verifiedAt.IsZero():
		unmet = append(unmet, "staging: golive has no signed record that staging passed its verification for this spec")
	case !emergency && now.Before(verifiedAt.Add(spec.Staging.Soak.Duration)):
		unmet = append(unmet, fmt.Sprintf("soak: staging was verified at %s and spec.staging.soak (%s) has not passed",
			verifiedAt.UTC().Format(time.RFC3339), spec.Staging.Soak.Duration))
	}
	if last, tooOld := stagingTooOld(world, now); tooOld {
		unmet = append(unmet, "staging age: "+staleStagingMessage(world.StagingMaxAge, last))
	}
	if spec.Suspend {
		unmet = append(unmet, "suspend: spec.suspend is set")
	}
	for _, violation := range world.PolicyViolations {
		unmet = append(unmet, "policy: "+violation)
	}
	if !world.Window.Found {
		return append(unmet, fmt.Sprintf("window: GoLiveWindow %q not found", spec.Window.Name))
	}
	windowSpec := world.Window.Spec
	var emergencyRoles []string
	if windowSpec.Emergency != nil {
		emergencyRoles = windowSpec.Emergency.Roles
	}
	current, _ := CurrentApprovals(world.Commands, world.ApprovalExpiry, now)
	tally := TallyApprovals(spec, world.RequestedBy, current, emergencyRoles)
	if !tally.Satisfied() {
		unmet = append(unmet, "approvals: the signed ledger does not meet the quorum: "+tally.Waiting())
	}
	if emergency {
		switch policy := windowSpec.Emergency; {
		case policy == nil:
			unmet = append(unmet, fmt.Sprintf("emergency: %s allows no emergency updates", world.Window.emergencyRulesOf(spec.Window.Name)))
		case world.Window.EmergencyUsed >= policy.MaxPerPeriod:
			unmet = append(unmet, fmt.Sprintf("emergency budget: %s allows %d emergency updates per %s and %d were used",
				world.Window.emergencyRulesOf(spec.Window.Name), policy.MaxPerPeriod, policy.Period.Duration, world.Window.EmergencyUsed))
		}
		return unmet
	}
	calendar, err := window.Compile(windowSpec)
	if err != nil {
		return append(unmet, fmt.Sprintf("window: GoLiveWindow %q is invalid: %v", spec.Window.Name, err))
	}
	if lead := windowSpec.LeadTime.Duration; lead > 0 && tally.Satisfied() {
		opening, ok := calendar.NextOpeningAfter(tally.LastAt, lead)
		if !ok || now.Before(opening.Start) {
			unmet = append(unmet, fmt.Sprintf("lead time: the window's opening must start at least %s after the last approval (%s)",
				lead, tally.LastAt.UTC().Format(time.RFC3339)))
		}
	}
	need := expectedDuration(spec)
	if freeze, frozen := calendar.FrozenAt(now); frozen {
		unmet = append(unmet, fmt.Sprintf("window: a freeze of GoLiveWindow %q forbids production changes until %s",
			spec.Window.Name, freeze.End.UTC().Format(time.RFC3339)))
	} else if !calendar.Fits(now, need) {
		unmet = append(unmet, fmt.Sprintf("window: GoLiveWindow %q is not open now with %s left", spec.Window.Name, need))
	}
	return unmet
}

// recordGate adds golive's record that gate passed now for the current spec;
// the controller signs it before the status is patched.
func (d *decider) recordGate(gate golivev1alpha1.Gate) {
	d.status.GateRecords = append(d.status.GateRecords, golivev1alpha1.GateRecord{
		Gate: gate, SpecHash: d.world.SpecHash, At: metav1.NewTime(d.now),
	})
	if excess := len(d.status.GateRecords) - GateRecordLimit; excess > 0 {
		d.status.GateRecords = slices.Delete(d.status.GateRecords, 0, excess)
	}
}

// untrustedProduction stalls a request whose status claims a production phase
// that golive has no signed record of starting: someone else wrote that
// status. Nothing in production is changed for it. It reports whether it stalled.
func (d *decider) untrustedProduction() bool {
	phase := d.status.Phase
	if !phase.TouchesProduction() || phase.IsTerminal() || d.world.Attested.ProductionStarted {
		return false
	}
	d.stall(golivev1alpha1.ReasonStatusNotTrusted, fmt.Sprintf(
		"The status says phase %s, but golive has no signed record that production started for this spec; nothing was changed", phase))
	return true
}
