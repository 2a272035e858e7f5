package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// Limits of the names this package makes (object names are DNS subdomains,
// ConfigMap keys at most 253 characters).
const (
	MaxObjectName   = 253
	maxConfigMapKey = 253
)

// SavedSpecsName is the name of the ConfigMap that holds the saved specs of the
// UpdateRequest called requestName: "<request>-saved-specs", shortened with a
// hash when that would be too long for an object name.
func SavedSpecsName(requestName string) string {
	return ShortName(requestName+"-saved-specs", MaxObjectName)
}

// StagingSavedSpecsName is the name of the ConfigMap, in the request's
// namespace, that holds the staging targets' saved specs of the UpdateRequest
// called requestName: "<request>-staging-saved-specs", shortened like SavedSpecsName.
func StagingSavedSpecsName(requestName string) string {
	return ShortName(requestName+"-staging-saved-specs", MaxObjectName)
}

// savedSpecKey is the ConfigMap key of a target's saved spec: "<Kind>.<name>".
func savedSpecKey(target v1alpha1.Target) string {
	return ShortName(string(target.Kind)+"."+target.Name, maxConfigMapKey)
}

// ShortName returns name if it has at most limit characters, and otherwise its
// beginning followed by "-" and a hash of the whole name, limit characters in
// all. Different long names stay different; the result begins and ends with
// what name allows there (a letter or digit), so it stays a valid DNS name or
// label value.
func ShortName(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:])[:10]
	prefix := strings.TrimRight(name[:limit-len(hash)-1], "-._")
	return prefix + "-" + hash
}
