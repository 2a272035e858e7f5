package policy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/golive-dev/golive/internal/durationfmt"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Violation is one way a request falls short of a policy.
type Violation struct {
	// Field is the request's field, such as spec.approvals.required.
	Field string
	// Policy names the policy that asks for more.
	Policy string
	// Detail says what the policy asks for.
	Detail string
}

// String reads "spec.approvals.required: policy production-apps requires role operations-office (count 1)".
func (v Violation) String() string {
	return fmt.Sprintf("%s: policy %s %s", v.Field, v.Policy, v.Detail)
}

// Check lists how the request's spec falls short of rules, in a stable
// order. What needs the cluster (the claims the targets mount, for
// backup.requireSnapshots) or time (expireAfter, maxAge, notice,
// supervision) is checked where it happens, not here.
func Check(rules Rules, spec *golivev1alpha1.UpdateRequestSpec) []Violation {
	var violations []Violation
	for _, role := range slices.Sorted(maps.Keys(rules.Approvals)) {
		want := rules.Approvals[role]
		index := slices.IndexFunc(spec.Approvals.Required, func(q golivev1alpha1.RoleQuorum) bool { return q.Role == role })
		switch {
		case index < 0:
			violations = append(violations, Violation{"spec.approvals.required", want.Policy, fmt.Sprintf("requires role %s (count %d)", role, want.Count)})
		case spec.Approvals.Required[index].Count < want.Count:
			violations = append(violations, Violation{fmt.Sprintf("spec.approvals.required[%d].count", index), want.Policy,
				fmt.Sprintf("requires role %s (count %d), not %d", role, want.Count, spec.Approvals.Required[index].Count)})
		}
	}
	if rules.SelfApprovalForbiddenBy != "" && spec.Approvals.AllowSelfApproval {
		violations = append(violations, Violation{"spec.approvals.allowSelfApproval", rules.SelfApprovalForbiddenBy, "forbids self-approval: remove it or set it false"})
	}
	if minimum := rules.MinSoak; minimum.Policy != "" && spec.Staging.Soak.Duration < minimum.Duration {
		violations = append(violations, Violation{"spec.staging.soak", minimum.Policy,
			fmt.Sprintf("requires a soak of at least %s, not %s", durationfmt.Readable(minimum.Duration), durationfmt.Readable(spec.Staging.Soak.Duration))})
	}
	if rules.AcceptanceRequiredBy != "" && spec.Acceptance == nil {
		violations = append(violations, Violation{"spec.acceptance", rules.AcceptanceRequiredBy, "requires acceptance after production is verified: set spec.acceptance.role"})
	}
	if rules.SnapshotsRequiredBy != "" && spec.Backup.VolumeClaimSelector == nil {
		violations = append(violations, Violation{"spec.backup.volumeClaimSelector", rules.SnapshotsRequiredBy,
			"requires snapshots of the claims production mounts: select them with spec.backup.volumeClaimSelector"})
	}
	for _, kind := range slices.Sorted(maps.Keys(rules.References)) {
		index := slices.IndexFunc(spec.References, func(r golivev1alpha1.Reference) bool { return r.Type == kind })
		rule := rules.References[kind]
		if index < 0 {
			violations = append(violations, Violation{"spec.references", rule.Policy, fmt.Sprintf("requires a reference of type %s", kind)})
			continue
		}
		id := spec.References[index].ID
		for _, pattern := range rule.Patterns {
			if !pattern.Pattern.MatchString(id) {
				violations = append(violations, Violation{fmt.Sprintf("spec.references[%d].id", index), pattern.Policy,
					fmt.Sprintf("requires the id of a %s reference to match %s; %q does not", kind, pattern.Pattern, id)})
			}
		}
	}
	return violations
}

// MountedClaims are the claims a production target mounts, for
// backup.requireSnapshots.
type MountedClaims struct {
	// Target names the workload, such as `StatefulSet "billing-db"`.
	Target string
	// Claims are the claims it mounts that exist.
	Claims []string
}

// CheckSnapshots lists, where a policy requires snapshots, the claims the
// production targets mount that spec.backup.volumeClaimSelector does not
// select (selected): each would be left out of the backup, so a rollback
// could not restore it.
func CheckSnapshots(rules Rules, mounted []MountedClaims, selected []string) []Violation {
	if rules.SnapshotsRequiredBy == "" {
		return nil
	}
	var violations []Violation
	for _, target := range mounted {
		for _, claim := range target.Claims {
			if !slices.Contains(selected, claim) {
				violations = append(violations, Violation{"spec.backup.volumeClaimSelector", rules.SnapshotsRequiredBy,
					fmt.Sprintf("requires snapshots of every claim production mounts; it does not select claim %q, mounted by %s", claim, target.Target)})
			}
		}
	}
	return violations
}
