package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func policy(name string, generation int64, spec golivev1alpha1.GoLivePolicySpec) golivev1alpha1.GoLivePolicy {
	return golivev1alpha1.GoLivePolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: generation}, Spec: spec}
}

func duration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// productionApps is procedure 004 of the design: two approvals, a soak,
// acceptance, a change ticket and a test report.
func productionApps() golivev1alpha1.GoLivePolicy {
	return policy("production-apps", 3, golivev1alpha1.GoLivePolicySpec{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive.dev/tier": "production"}},
		Approvals: &golivev1alpha1.PolicyApprovals{
			Required:          []golivev1alpha1.RoleQuorum{{Role: "rnd-lead", Count: 1}, {Role: "operations-office", Count: 1}},
			AllowSelfApproval: ptr.To(false), RequireComment: true, ExpireAfter: duration(72 * time.Hour),
		},
		Staging:    &golivev1alpha1.PolicyStaging{MinSoak: duration(48 * time.Hour), MaxAge: duration(96 * time.Hour)},
		Acceptance: &golivev1alpha1.PolicyAcceptance{Required: true},
		References: []golivev1alpha1.PolicyReference{{Type: "change", Pattern: `^CHG[0-9]{7}$`}, {Type: "test-report"}},
	})
}

// strictFinance asks more of some fields and less of others.
func strictFinance() golivev1alpha1.GoLivePolicy {
	return policy("finance", 1, golivev1alpha1.GoLivePolicySpec{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"team": "finance"}},
		Approvals: &golivev1alpha1.PolicyApprovals{
			Required: []golivev1alpha1.RoleQuorum{{Role: "operations-office", Count: 2}, {Role: "cfo", Count: 1}}, ExpireAfter: duration(24 * time.Hour),
		},
		Staging:    &golivev1alpha1.PolicyStaging{MinSoak: duration(24 * time.Hour), MaxAge: duration(48 * time.Hour)},
		References: []golivev1alpha1.PolicyReference{{Type: "change", Pattern: `^CHG0`}},
	})
}

func TestSelecting(t *testing.T) {
	policies := []golivev1alpha1.GoLivePolicy{strictFinance(), productionApps()}
	got := func(labels map[string]string) []string {
		var names []string
		for _, p := range Selecting(policies, labels) {
			names = append(names, p.Name)
		}
		return names
	}
	if diff := cmp.Diff([]string{"finance", "production-apps"}, got(map[string]string{"golive.dev/tier": "production", "team": "finance"})); diff != "" {
		t.Errorf("both labels (-want +got):\n%s", diff)
	}
	if names := got(map[string]string{"team": "web"}); len(names) != 0 {
		t.Errorf("an unselected namespace is governed by %v", names)
	}
}

func TestMergeTakesTheStrictestOfEachField(t *testing.T) {
	rules := Merge([]golivev1alpha1.GoLivePolicy{productionApps(), strictFinance()})
	if diff := cmp.Diff([]Applied{{"finance", 1}, {"production-apps", 3}}, rules.Policies); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	wantApprovals := map[string]Count{"rnd-lead": {1, "production-apps"}, "operations-office": {2, "finance"}, "cfo": {1, "finance"}}
	if diff := cmp.Diff(wantApprovals, rules.Approvals); diff != "" {
		t.Errorf("approvals (-want +got):\n%s", diff)
	}
	for name, got := range map[string]Duration{"minSoak": rules.MinSoak, "maxAge": rules.MaxAge, "expireAfter": rules.ExpireAfter} {
		want := map[string]Duration{
			"minSoak":     {48 * time.Hour, "production-apps"}, // the longer soak
			"maxAge":      {48 * time.Hour, "finance"},         // the shorter age
			"expireAfter": {24 * time.Hour, "finance"},         // the shorter life of an approval
		}[name]
		if got != want {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
	if rules.SelfApprovalForbiddenBy != "production-apps" || rules.CommentRequiredBy != "production-apps" || rules.AcceptanceRequiredBy != "production-apps" {
		t.Errorf("flags: %+v", rules)
	}
	if change := rules.References["change"]; change.Policy != "finance" || len(change.Patterns) != 2 {
		t.Errorf("change references: %+v, want both patterns, first required by finance", change)
	}
}

func TestCheck(t *testing.T) {
	rules := Merge([]golivev1alpha1.GoLivePolicy{productionApps(), strictFinance()})
	compliant := func() *golivev1alpha1.UpdateRequest {
		r := testfixtures.MakeUpdateRequest("billing", "r").Staging("billing-grey").Soak(48*time.Hour).
			Approval("rnd-lead", 1).Approval("operations-office", 2).Approval("cfo", 1).
			Acceptance("business-owner", time.Hour, golivev1alpha1.AcceptOnTimeout).Obj()
		r.Spec.References = []golivev1alpha1.Reference{{Type: "change", ID: "CHG0012345"}, {Type: "test-report", URL: "https://reports.example.com/2.4.0"}}
		return r
	}
	if violations := Check(rules, &compliant().Spec); len(violations) != 0 {
		t.Fatalf("a compliant request: %v", violations)
	}
	for _, tc := range []struct {
		name   string
		change func(*golivev1alpha1.UpdateRequest)
		want   string
	}{
		{"a required role missing", func(r *golivev1alpha1.UpdateRequest) { r.Spec.Approvals.Required = r.Spec.Approvals.Required[:2] },
			"spec.approvals.required: policy finance requires role cfo (count 1)"},
		{"a count below the policy's", func(r *golivev1alpha1.UpdateRequest) { r.Spec.Approvals.Required[1].Count = 1 },
			"spec.approvals.required[1].count: policy finance requires role operations-office (count 2), not 1"},
		{"self-approval", func(r *golivev1alpha1.UpdateRequest) { r.Spec.Approvals.AllowSelfApproval = true },
			"spec.approvals.allowSelfApproval: policy production-apps forbids self-approval"},
		{"a short soak", func(r *golivev1alpha1.UpdateRequest) { r.Spec.Staging.Soak = testfixtures.Duration(time.Hour) },
			"spec.staging.soak: policy production-apps requires a soak of at least 2 days, not 1h"},
		{"no acceptance", func(r *golivev1alpha1.UpdateRequest) { r.Spec.Acceptance = nil },
			"spec.acceptance: policy production-apps requires acceptance"},
		{"a missing reference", func(r *golivev1alpha1.UpdateRequest) { r.Spec.References = r.Spec.References[:1] },
			"spec.references: policy production-apps requires a reference of type test-report"},
		{"an id of the wrong form", func(r *golivev1alpha1.UpdateRequest) { r.Spec.References[0].ID = "CHG12" },
			`spec.references[0].id: policy production-apps requires the id of a change reference to match ^CHG[0-9]{7}$; "CHG12" does not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			request := compliant()
			tc.change(request)
			var got []string
			for _, v := range Check(rules, &request.Spec) {
				got = append(got, v.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("violations:\n%s\nwant one saying %q", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	p := productionApps()
	p.Spec.References[0].Pattern = "^CHG[0-9"
	p.Spec.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}
	got := strings.Join(Problems(&p), "\n")
	for _, want := range []string{"spec.namespaceSelector: ", "spec.references[0].pattern: not a regular expression"} {
		if !strings.Contains(got, want) {
			t.Errorf("Problems = %q, want %q", got, want)
		}
	}
	sound := productionApps()
	if problems := Problems(&sound); len(problems) != 0 {
		t.Errorf("a sound policy: %v", problems)
	}
}

func TestTrustedSubmittersAreThoseEveryPolicyThatNamesAnyTrusts(t *testing.T) {
	submitters := func(names ...string) []golivev1alpha1.TrustedSubmitter {
		var out []golivev1alpha1.TrustedSubmitter
		for _, name := range names {
			out = append(out, golivev1alpha1.TrustedSubmitter{ServiceAccount: golivev1alpha1.ServiceAccountRef{Namespace: "gitops", Name: name}})
		}
		return out
	}
	argocd, flux := "system:serviceaccount:gitops:argocd", "system:serviceaccount:gitops:flux"
	cases := []struct {
		name     string
		policies []golivev1alpha1.GoLivePolicy
		want     map[string]string
	}{
		{"none names any", []golivev1alpha1.GoLivePolicy{productionApps()}, nil},
		{"one names two", []golivev1alpha1.GoLivePolicy{policy("a", 1, golivev1alpha1.GoLivePolicySpec{TrustedSubmitters: submitters("argocd", "flux")})},
			map[string]string{argocd: "a", flux: "a"}},
		{"a policy that names none restricts nothing", []golivev1alpha1.GoLivePolicy{
			productionApps(), policy("a", 1, golivev1alpha1.GoLivePolicySpec{TrustedSubmitters: submitters("argocd")}),
		}, map[string]string{argocd: "a"}},
		{"two that name some trust those both name", []golivev1alpha1.GoLivePolicy{
			policy("b", 1, golivev1alpha1.GoLivePolicySpec{TrustedSubmitters: submitters("argocd")}),
			policy("a", 1, golivev1alpha1.GoLivePolicySpec{TrustedSubmitters: submitters("argocd", "flux")}),
		}, map[string]string{argocd: "a"}},
		{"two that name different ones trust none", []golivev1alpha1.GoLivePolicy{
			policy("a", 1, golivev1alpha1.GoLivePolicySpec{TrustedSubmitters: submitters("flux")}),
			policy("b", 1, golivev1alpha1.GoLivePolicySpec{TrustedSubmitters: submitters("argocd")}),
		}, map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, Merge(c.policies).TrustedSubmitters); diff != "" {
				t.Errorf("TrustedSubmitters (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmergencyRulesMergeToTheStrictest(t *testing.T) {
	emergency := func(name string, maxPerPeriod int32, period time.Duration, roles ...string) golivev1alpha1.GoLivePolicy {
		return policy(name, 1, golivev1alpha1.GoLivePolicySpec{Emergency: &golivev1alpha1.EmergencyPolicy{
			Roles: roles, MaxPerPeriod: maxPerPeriod, Period: metav1.Duration{Duration: period}}})
	}
	if got := Merge([]golivev1alpha1.GoLivePolicy{productionApps()}).Emergency; got != nil {
		t.Errorf("policies without emergency rules: %+v, want the window's to apply", got)
	}
	got := Merge([]golivev1alpha1.GoLivePolicy{
		emergency("b", 1, 720*time.Hour, "cto", "ciso"),
		productionApps(),
		emergency("a", 2, 360*time.Hour, "ciso", "coo"),
	}).Emergency
	want := &EmergencyRule{Policy: "a", Roles: []string{"ciso"}, MaxPerPeriod: 1, Period: 720 * time.Hour}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged emergency rules (-want +got):\n%s", diff)
	}
	if window := got.WindowEmergency(); window.MaxPerPeriod != 1 || window.Period.Duration != 720*time.Hour || !cmp.Equal(window.Roles, []string{"ciso"}) {
		t.Errorf("as the window's: %+v", window)
	}
}

func TestCheckSnapshotsNamesEveryClaimLeftOut(t *testing.T) {
	mounted := []MountedClaims{
		{Target: `Deployment "billing-api"`, Claims: []string{"billing-data"}},
		{Target: `StatefulSet "billing-db"`, Claims: []string{"data-billing-db-0", "data-billing-db-1"}},
	}
	selected := []string{"billing-data", "data-billing-db-0"}
	if got := CheckSnapshots(Rules{}, mounted, selected); got != nil {
		t.Errorf("without requireSnapshots: %v", got)
	}
	got := CheckSnapshots(Rules{SnapshotsRequiredBy: "production-apps"}, mounted, selected)
	want := `spec.backup.volumeClaimSelector: policy production-apps requires snapshots of every claim production mounts; it does not select claim "data-billing-db-1", mounted by StatefulSet "billing-db"`
	if len(got) != 1 || got[0].String() != want {
		t.Errorf("violations = %v, want only %q", got, want)
	}
}
