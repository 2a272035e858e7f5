package backup_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/golive-dev/golive/internal/backup"
)

func TestSnapshotName(t *testing.T) {
	if got, want := backup.SnapshotName("billing-2-4-0", "data-billing-db-0"), "billing-2-4-0-data-billing-db-0"; got != want {
		t.Errorf("SnapshotName() = %q, want %q", got, want)
	}
	request := strings.Repeat("r", 63)
	long := strings.Repeat("c", 180) + "." + strings.Repeat("a", 12)
	longer := strings.Repeat("c", 180) + "." + strings.Repeat("b", 12)
	name := backup.SnapshotName(request, long)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		t.Errorf("SnapshotName() of a long claim = %q, not an object name: %v", name, errs)
	}
	if again := backup.SnapshotName(request, long); again != name {
		t.Errorf("SnapshotName() = %q and then %q for the same request and claim", name, again)
	}
	if other := backup.SnapshotName(request, longer); other == name {
		t.Errorf("SnapshotName() gives %q to two different long claims", name)
	}
}
