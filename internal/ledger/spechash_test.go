package ledger

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestSpecHash(t *testing.T) {
	base := testfixtures.MakeAlicesRequest("billing", "r").Obj().Spec
	baseHash := SpecHash(&base)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(baseHash) {
		t.Fatalf("SpecHash = %q, want sha256:<64 hex digits>", baseHash)
	}

	for _, tc := range []struct {
		name   string
		change func(*golivev1alpha1.UpdateRequestSpec)
		same   bool
	}{
		{"unchanged copy", func(*golivev1alpha1.UpdateRequestSpec) {}, true},
		{"suspend is an operational switch, not content", func(s *golivev1alpha1.UpdateRequestSpec) { s.Suspend = true }, true},
		{"release", func(s *golivev1alpha1.UpdateRequestSpec) { s.Release = "2.4.1" }, false},
		{"an image", func(s *golivev1alpha1.UpdateRequestSpec) {
			s.Targets[0].Images = map[string]golivev1alpha1.Image{"api": "registry.example.com/billing-api:2.4.1"}
		}, false},
		{"a second image, added in another order", func(s *golivev1alpha1.UpdateRequestSpec) {
			s.Targets[0].Images = map[string]golivev1alpha1.Image{"sidecar": "proxy:1", "api": "registry.example.com/billing-api:2.4.0"}
		}, false},
		{"the quorum", func(s *golivev1alpha1.UpdateRequestSpec) { s.Approvals.Required[0].Count = 2 }, false},
		{"self-approval", func(s *golivev1alpha1.UpdateRequestSpec) { s.Approvals.AllowSelfApproval = true }, false},
		{"the soak", func(s *golivev1alpha1.UpdateRequestSpec) { s.Staging.Soak = metav1.Duration{Duration: 1} }, false},
		{"emergency", func(s *golivev1alpha1.UpdateRequestSpec) {
			s.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
		}, false},
		{"a ConfigMap's data", func(s *golivev1alpha1.UpdateRequestSpec) {
			s.Config = []golivev1alpha1.ConfigEntry{{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Data: map[string]string{"SCHEMA": "42"}}}
		}, false},
		{"a Secret's source", func(s *golivev1alpha1.UpdateRequestSpec) {
			s.Config = []golivev1alpha1.ConfigEntry{{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", FromSecret: "billing-credentials-2-5-0"}}
		}, false},
		{"a migration", func(s *golivev1alpha1.UpdateRequestSpec) {
			s.Migrations = []golivev1alpha1.ReleaseJob{{Name: "schema"}}
		}, false},
		{"a backup Job and a restore Job", func(s *golivev1alpha1.UpdateRequestSpec) {
			s.Backup.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-dump"}}
			s.Rollback.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-restore"}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := *testfixtures.MakeAlicesRequest("billing", "r").Obj().Spec.DeepCopy()
			tc.change(&spec)
			if got := SpecHash(&spec) == baseHash; got != tc.same {
				t.Errorf("hash equal to the original's: %v, want %v", got, tc.same)
			}
		})
	}
}

func TestSpecHashLeavesTheSpecAlone(t *testing.T) {
	spec := testfixtures.MakeAlicesRequest("billing", "r").Obj().Spec
	spec.Suspend = true
	before := *spec.DeepCopy()
	SpecHash(&spec)
	if diff := cmp.Diff(before, spec); diff != "" {
		t.Errorf("SpecHash changed the spec (-before +after):\n%s", diff)
	}
}
