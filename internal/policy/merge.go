// Package policy merges the GoLivePolicies that select a namespace into the
// rules a request there must meet, and checks a request against them. It is
// pure: the admission webhook and the controller read the policies and ask
// it, so that both refuse with the same words. Where several policies select
// a namespace the strictest value of each field wins, and every rule
// remembers the policy that set it, so a refusal can name it.
package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Applied names a policy and the generation whose rules applied.
type Applied struct {
	Name       string
	Generation int64
}

// Count is a required count and the policy that requires it.
type Count struct {
	Count  int32
	Policy string
}

// Duration is a bound and the policy that sets it.
type Duration struct {
	Duration time.Duration
	Policy   string
}

// Pattern is a pattern a reference's id must match, and its policy.
type Pattern struct {
	Pattern *regexp.Regexp
	Policy  string
}

// ReferenceRule is what the policies ask of one type of reference.
type ReferenceRule struct {
	Policy   string
	Patterns []Pattern
}

// Rules are what every selecting policy asks of a request, merged: the
// strictest value of each field. A zero field asks nothing. Policy names a
// field's policy; for a flag, the first policy (by name) that set it.
type Rules struct {
	// Policies are the policies merged, by name.
	Policies []Applied

	// Approvals: per role, the highest count any policy requires.
	Approvals map[string]Count
	// SelfApprovalForbiddenBy names a policy that set allowSelfApproval false.
	SelfApprovalForbiddenBy string
	// CommentRequiredBy names a policy that set requireComment.
	CommentRequiredBy string
	// ExpireAfter is the shortest approvals.expireAfter.
	ExpireAfter Duration
	// MinSoak is the longest staging.minSoak.
	MinSoak Duration
	// MaxAge is the shortest staging.maxAge.
	MaxAge Duration
	// AcceptanceRequiredBy names a policy with acceptance.required.
	AcceptanceRequiredBy string
	// SnapshotsRequiredBy names a policy with backup.requireSnapshots.
	SnapshotsRequiredBy string
	// NoticeMinLead is the longest notice.minLead.
	NoticeMinLead Duration
	// SupervisionRoles: each role some policy names for supervision.
	SupervisionRoles map[string]string
	// References: per type, the first policy that requires it and the
	// patterns its id must match (each policy's).
	References map[string]ReferenceRule
	// ProtectWorkloadsBy names a policy with protectWorkloads.
	ProtectWorkloadsBy string
	// TrustedSubmitters: the user names (system:serviceaccount:<ns>:<name>)
	// that may state who asked, each with the first policy that names it.
	// A submitter is trusted only when every policy that sets
	// trustedSubmitters names it: a policy that does not set the field
	// restricts nothing.
	TrustedSubmitters map[string]string
	// Emergency replaces the emergency rules of the windows of governed
	// requests; nil: the window's apply. Merged from every policy that sets
	// it: the roles all of them name, the smallest maxPerPeriod, the longest
	// period. Policy names the first (by name).
	Emergency *EmergencyRule
}

// EmergencyRule is the emergency rules the policies set together.
type EmergencyRule struct {
	Policy       string
	Roles        []string
	MaxPerPeriod int32
	Period       time.Duration
}

// WindowEmergency is the emergency policy that replaces the window's,
// as the window would state it.
func (e *EmergencyRule) WindowEmergency() *golivev1alpha1.EmergencyPolicy {
	return &golivev1alpha1.EmergencyPolicy{Roles: slices.Clone(e.Roles), MaxPerPeriod: e.MaxPerPeriod, Period: metav1.Duration{Duration: e.Period}}
}

// Selecting returns the policies whose namespaceSelector selects a
// namespace with namespaceLabels, sorted by name; a selector that does not
// parse selects nothing (the policy controller reports it).
func Selecting(policies []golivev1alpha1.GoLivePolicy, namespaceLabels map[string]string) []golivev1alpha1.GoLivePolicy {
	var selecting []golivev1alpha1.GoLivePolicy
	for _, p := range policies {
		selector, err := metav1.LabelSelectorAsSelector(&p.Spec.NamespaceSelector)
		if err == nil && selector.Matches(labels.Set(namespaceLabels)) {
			selecting = append(selecting, p)
		}
	}
	slices.SortFunc(selecting, func(a, b golivev1alpha1.GoLivePolicy) int { return strings.Compare(a.Name, b.Name) })
	return selecting
}

// Merge merges policies into the rules they ask for together. A reference
// pattern that does not compile is left out here: Problems reports it, and
// the policy is not Ready.
func Merge(policies []golivev1alpha1.GoLivePolicy) Rules {
	rules := Rules{Approvals: map[string]Count{}, SupervisionRoles: map[string]string{}, References: map[string]ReferenceRule{}}
	sorted := slices.Clone(policies)
	slices.SortFunc(sorted, func(a, b golivev1alpha1.GoLivePolicy) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range sorted {
		name, spec := p.Name, p.Spec
		rules.Policies = append(rules.Policies, Applied{Name: name, Generation: p.Generation})
		if a := spec.Approvals; a != nil {
			for _, required := range a.Required {
				if current, ok := rules.Approvals[required.Role]; !ok || required.Count > current.Count {
					rules.Approvals[required.Role] = Count{Count: required.Count, Policy: name}
				}
			}
			if a.AllowSelfApproval != nil && !*a.AllowSelfApproval {
				setOnce(&rules.SelfApprovalForbiddenBy, name)
			}
			if a.RequireComment {
				setOnce(&rules.CommentRequiredBy, name)
			}
			shortest(&rules.ExpireAfter, a.ExpireAfter, name)
		}
		if s := spec.Staging; s != nil {
			longest(&rules.MinSoak, s.MinSoak, name)
			shortest(&rules.MaxAge, s.MaxAge, name)
		}
		if spec.Acceptance != nil && spec.Acceptance.Required {
			setOnce(&rules.AcceptanceRequiredBy, name)
		}
		if spec.Backup != nil && spec.Backup.RequireSnapshots {
			setOnce(&rules.SnapshotsRequiredBy, name)
		}
		if spec.Notice != nil {
			longest(&rules.NoticeMinLead, &spec.Notice.MinLead, name)
		}
		if spec.Supervision != nil {
			if _, ok := rules.SupervisionRoles[spec.Supervision.Role]; !ok {
				rules.SupervisionRoles[spec.Supervision.Role] = name
			}
		}
		for _, reference := range spec.References {
			rule, ok := rules.References[reference.Type]
			if !ok {
				rule.Policy = name
			}
			if reference.Pattern != "" {
				if compiled, err := regexp.Compile(reference.Pattern); err == nil {
					rule.Patterns = append(rule.Patterns, Pattern{Pattern: compiled, Policy: name})
				}
			}
			rules.References[reference.Type] = rule
		}
		if spec.ProtectWorkloads {
			setOnce(&rules.ProtectWorkloadsBy, name)
		}
		if e := spec.Emergency; e != nil {
			rules.Emergency = strictestEmergency(rules.Emergency, e, name)
		}
		if len(spec.TrustedSubmitters) > 0 {
			rules.TrustedSubmitters = trustedBoth(rules.TrustedSubmitters, spec.TrustedSubmitters, name)
		}
	}
	return rules
}

// trustedBoth is the submitters trusted so far (nil: no policy set any) that
// submitters, of policy, trusts too: trust is the strictest when it is the
// smallest.
func trustedBoth(sofar map[string]string, submitters []golivev1alpha1.TrustedSubmitter, policy string) map[string]string {
	named := map[string]string{}
	for _, submitter := range submitters {
		user := ServiceAccountUser(submitter.ServiceAccount)
		if first, ok := sofar[user]; ok {
			named[user] = first
		} else if sofar == nil {
			named[user] = policy
		}
	}
	return named
}

// strictestEmergency merges a policy's emergency rules into those so far.
func strictestEmergency(sofar *EmergencyRule, e *golivev1alpha1.EmergencyPolicy, policy string) *EmergencyRule {
	if sofar == nil {
		return &EmergencyRule{Policy: policy, Roles: slices.Clone(e.Roles), MaxPerPeriod: e.MaxPerPeriod, Period: e.Period.Duration}
	}
	merged := *sofar
	merged.Roles = slices.DeleteFunc(slices.Clone(sofar.Roles), func(role string) bool { return !slices.Contains(e.Roles, role) })
	merged.MaxPerPeriod = min(sofar.MaxPerPeriod, e.MaxPerPeriod)
	merged.Period = max(sofar.Period, e.Period.Duration)
	return &merged
}

// ServiceAccountUser is the user name the API server gives a ServiceAccount.
func ServiceAccountUser(account golivev1alpha1.ServiceAccountRef) string {
	return "system:serviceaccount:" + account.Namespace + ":" + account.Name
}

// Problems lists what is wrong with a policy that its schema cannot refuse,
// each naming the field: golive does not enforce a policy it cannot read
// whole, and says why in its Ready condition.
func Problems(p *golivev1alpha1.GoLivePolicy) []string {
	var problems []string
	if _, err := metav1.LabelSelectorAsSelector(&p.Spec.NamespaceSelector); err != nil {
		problems = append(problems, fmt.Sprintf("spec.namespaceSelector: %v", err))
	}
	for i, reference := range p.Spec.References {
		if _, err := regexp.Compile(reference.Pattern); err != nil {
			problems = append(problems, fmt.Sprintf("spec.references[%d].pattern: not a regular expression: %v", i, err))
		}
	}
	return problems
}

func setOnce(field *string, policy string) {
	if *field == "" {
		*field = policy
	}
}

func shortest(field *Duration, d *metav1.Duration, policy string) {
	if d != nil && (field.Policy == "" || d.Duration < field.Duration) {
		*field = Duration{Duration: d.Duration, Policy: policy}
	}
}

func longest(field *Duration, d *metav1.Duration, policy string) {
	if d != nil && (field.Policy == "" || d.Duration > field.Duration) {
		*field = Duration{Duration: d.Duration, Policy: policy}
	}
}
