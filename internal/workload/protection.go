package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// ProtectedList is the name of the ConfigMap, one per namespace, that lists
// the workloads a GoLivePolicy with spec.protectWorkloads protects there.
// The admission policy golive-protected-workloads
// (config/admission/protected_workloads_policy.yaml) reads it as its
// parameter and refuses changes to their pod template and replicas by anyone
// but golive and the break-glass group; the same policy file keeps everyone
// else from the list.
const ProtectedList = "golive-protected-workloads"

// specHashKeyPrefix starts the list's keys that hold the hash of a protected
// workload's pod template and replicas as golive last accepted them; no
// workload resource is called so, so they never read as a protected workload.
const specHashKeyPrefix = "spec-hash."

// ProtectedKey is the key of a workload in the protected list: its resource
// and name ("deployments.api"), as the admission policy builds it from the
// request. Only Deployments and StatefulSets are protected (the targets
// whose pod template and replicas a release sets); ok is false for others.
func ProtectedKey(kind v1alpha1.TargetKind, name string) (key string, ok bool) {
	switch kind {
	case v1alpha1.TargetDeployment:
		return "deployments." + name, true
	case v1alpha1.TargetStatefulSet:
		return "statefulsets." + name, true
	default:
		return "", false
	}
}

// SpecHashKey is the key under which the list keeps the hash of the
// workload of key (a ProtectedKey).
func SpecHashKey(key string) string { return specHashKeyPrefix + key }

// IsSpecHashKey tells the list's hash keys from its workload keys.
func IsSpecHashKey(key string) bool { return strings.HasPrefix(key, specHashKeyPrefix) }

// ProtectedSpecHash is the hash of what protection covers of a Deployment
// or StatefulSet: its pod template and its replicas.
func ProtectedSpecHash(obj client.Object) (string, error) {
	template := PodTemplate(obj)
	replicas := specReplicas(obj)
	if template == nil || replicas == nil {
		return "", fmt.Errorf("%s is not a Deployment or StatefulSet", describe(obj))
	}
	data, err := json.Marshal(struct {
		Template any    `json:"template"`
		Replicas *int32 `json:"replicas"`
	}{template, *replicas})
	if err != nil {
		return "", fmt.Errorf("hashing the pod template of %s: %w", describe(obj), err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// SpecChange is who last changed a protected workload's pod template or
// replicas, as its managedFields tell: the field manager (not the user; the
// API server's audit log knows who) and when, to the second.
type SpecChange struct {
	Manager     string
	Subresource string
	Time        time.Time
}

// ByGolive is true when golive made the change, or the cluster's own
// controllers (the horizontal pod autoscaler, which the admission policy
// lets change replicas).
func (c SpecChange) ByGolive() bool {
	return c.Manager == FieldManager || c.Manager == "kube-controller-manager"
}

// LastSpecChange finds, among a workload's managedFields, the field manager
// that owns part of spec.template or spec.replicas and changed the object
// last. Of managers that changed it in the same second, one other than golive
// wins: a breach is better reported than missed. ok is false when no manager
// owns either.
func LastSpecChange(managedFields []metav1.ManagedFieldsEntry) (change SpecChange, ok bool) {
	for _, entry := range managedFields {
		if entry.Subresource == "status" || entry.Time == nil || !ownsProtectedSpec(entry.FieldsV1) {
			continue
		}
		candidate := SpecChange{Manager: entry.Manager, Subresource: entry.Subresource, Time: entry.Time.Time}
		switch {
		case !ok, candidate.Time.After(change.Time),
			candidate.Time.Equal(change.Time) && change.ByGolive() && !candidate.ByGolive():
			change, ok = candidate, true
		}
	}
	return change, ok
}

// ownsProtectedSpec is true when a managed field set holds spec.template or
// spec.replicas, or any field below them.
func ownsProtectedSpec(fields *metav1.FieldsV1) bool {
	if fields == nil {
		return false
	}
	var set struct {
		Spec map[string]json.RawMessage `json:"f:spec"`
	}
	if err := json.Unmarshal(fields.Raw, &set); err != nil {
		return false
	}
	_, template := set.Spec["f:template"]
	_, replicas := set.Spec["f:replicas"]
	return template || replicas
}

// IsProtectable is true for the kinds of workload protection covers.
func IsProtectable(obj client.Object) bool {
	switch obj.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet:
		return true
	default:
		return false
	}
}
