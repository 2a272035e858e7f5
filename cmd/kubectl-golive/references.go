package main

import (
	"fmt"
	"strings"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// referenceText is one spec.references entry as a line: "change CHG0012345
// https://… sha256:…", whichever parts it has.
func referenceText(reference golivev1alpha1.Reference) string {
	parts := []string{reference.Type}
	if reference.ID != "" {
		parts = append(parts, reference.ID)
	}
	if reference.URL != "" {
		parts = append(parts, reference.URL)
	}
	if reference.Digest != "" {
		parts = append(parts, reference.Digest)
	}
	return strings.Join(parts, " ")
}

// policiesText names the policies production started under, with their generations.
func policiesText(policies []golivev1alpha1.AppliedPolicy) string {
	names := make([]string, len(policies))
	for i, p := range policies {
		names[i] = fmt.Sprintf("%s (generation %d)", p.Name, p.Generation)
	}
	return strings.Join(names, ", ")
}
