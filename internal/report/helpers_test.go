package report

import (
	"time"

	"github.com/golive-dev/golive/internal/testfixtures"
)

// monday is "now" in the tests: Monday 2026-11-23 10:00 UTC.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// The sample release's builders, shared with the plugin's tests.
var (
	utc             = testfixtures.UTC
	at              = testfixtures.At
	makeRequest     = testfixtures.BillingRequest
	inPhase         = testfixtures.InPhase
	withCondition   = testfixtures.WithCondition
	verifiedStaging = testfixtures.VerifiedStaging
	entry           = testfixtures.Entry
)
