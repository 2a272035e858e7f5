package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
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

// observedKeyPrefix starts the list's keys that hold what golive last saw
// of a protected workload (ProtectedState); no workload resource is called
// so, so they never read as a protected workload.
const observedKeyPrefix = "observed."

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

// ParseProtectedKey is the kind and name of the workload of a ProtectedKey;
// ok is false for any other key.
func ParseProtectedKey(key string) (kind v1alpha1.TargetKind, name string, ok bool) {
	resource, name, found := strings.Cut(key, ".")
	switch {
	case !found || name == "":
		return "", "", false
	case resource == "deployments":
		return v1alpha1.TargetDeployment, name, true
	case resource == "statefulsets":
		return v1alpha1.TargetStatefulSet, name, true
	default:
		return "", "", false
	}
}

// ObservedKey is the key under which the list keeps the ProtectedState of
// the workload of key (a ProtectedKey).
func ObservedKey(key string) string { return observedKeyPrefix + key }

// IsObservedKey tells the list's ProtectedState keys from its workload keys.
func IsObservedKey(key string) bool { return strings.HasPrefix(key, observedKeyPrefix) }

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
// replicas, as its managedFields tell: the field managers (not the users;
// the API server's audit log knows who) that changed the object last, in the
// same second, and that second. Which of several managers of one second
// changed the template is not known, so each is named.
type SpecChange struct {
	Managers []FieldManagerOf
	Time     time.Time
}

// FieldManagerOf is a field manager and the subresource it wrote through
// ("" for the object itself).
type FieldManagerOf struct {
	Manager     string
	Subresource string
}

// String is the manager in quotes, and its subresource: "kubectl" (scale).
func (m FieldManagerOf) String() string {
	if m.Subresource == "" {
		return fmt.Sprintf("%q", m.Manager)
	}
	return fmt.Sprintf("%q (%s)", m.Manager, m.Subresource)
}

// byGolive is true for golive, and for the cluster's own controllers (the
// horizontal pod autoscaler, which the admission policy lets change replicas).
func (m FieldManagerOf) byGolive() bool {
	return m.Manager == FieldManager || m.Manager == "kube-controller-manager"
}

// ByGolive is true when golive made the change (or the autoscaler): every
// manager of the last second is golive's.
func (c SpecChange) ByGolive() bool {
	if len(c.Managers) == 0 {
		return false
	}
	for _, manager := range c.Managers {
		if !manager.byGolive() {
			return false
		}
	}
	return true
}

// ProtectedState is what golive keeps of a protected workload between two
// looks: the hash of its pod template and replicas (ProtectedSpecHash), and
// when each field manager that owns part of them last changed the object,
// so that the next look can tell which managers changed it since.
type ProtectedState struct {
	Hash string `json:"hash"`
	// Managers maps "<manager>/<operation>/<subresource>" to the time of its managedFields entry.
	Managers map[string]time.Time `json:"managers,omitempty"`
}

// ObserveProtected is the ProtectedState of a Deployment or StatefulSet read
// whole from the API server (with its managedFields).
func ObserveProtected(obj client.Object) (ProtectedState, error) {
	hash, err := ProtectedSpecHash(obj)
	if err != nil {
		return ProtectedState{}, err
	}
	state := ProtectedState{Hash: hash, Managers: map[string]time.Time{}}
	for _, entry := range specEntries(obj.GetManagedFields()) {
		var at time.Time // undated: written through the scale subresource
		if entry.Time != nil {
			at = entry.Time.UTC()
		}
		state.Managers[entryKey(entry)] = at
	}
	return state, nil
}

// ParseProtectedState reads a state the list keeps; ok is false for none or
// one that does not parse (then the next look starts afresh).
func ParseProtectedState(value string) (state ProtectedState, ok bool) {
	if value == "" || json.Unmarshal([]byte(value), &state) != nil || state.Hash == "" {
		return ProtectedState{}, false
	}
	return state, true
}

// String is the state as the list keeps it.
func (s ProtectedState) String() string {
	data, err := json.Marshal(s)
	if err != nil {
		panic("encoding a ProtectedState: " + err.Error())
	}
	return string(data)
}

// ChangeSince names who changed a protected workload's pod template or
// replicas since previous was observed, from the managedFields entries that
// own part of them:
//
//   - the entries new or dated later than then: the latest of the dated ones
//     and every new undated one. The API server dates no entry written
//     through the scale subresource; such an entry owns spec.replicas alone,
//     and a later scale by another manager takes it over, so its owner is the
//     last to have scaled.
//   - when none is (a manager changed the object again within the second,
//     or scaled again): the undated entries, else the latest dated ones.
//
// A manager that did not write since cannot have changed the template; one
// that changed only labels can, in the same interval, be named with the one
// that changed the template.
func ChangeSince(managedFields []metav1.ManagedFieldsEntry, previous ProtectedState) (SpecChange, bool) {
	var dated, undated []metav1.ManagedFieldsEntry
	for _, entry := range specEntries(managedFields) {
		at, seen := previous.Managers[entryKey(entry)]
		switch {
		case entry.Time == nil && !seen:
			undated = append(undated, entry)
		case entry.Time != nil && (!seen || entry.Time.After(at)):
			dated = append(dated, entry)
		}
	}
	if len(dated) == 0 && len(undated) == 0 {
		for _, entry := range specEntries(managedFields) {
			if entry.Time == nil {
				undated = append(undated, entry)
			}
		}
		if len(undated) == 0 {
			return LastSpecChange(managedFields)
		}
	}
	change, ok := LastSpecChange(dated)
	for _, entry := range undated {
		if manager := managerOf(entry); !slices.Contains(change.Managers, manager) {
			change.Managers = append(change.Managers, manager)
		}
		ok = true
	}
	sortManagers(change.Managers)
	return change, ok
}

// specEntries are the managedFields entries that own part of spec.template
// or spec.replicas, of the object or a subresource other than status.
func specEntries(managedFields []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	var entries []metav1.ManagedFieldsEntry
	for _, entry := range managedFields {
		if entry.Subresource != "status" && ownsProtectedSpec(entry.FieldsV1) {
			entries = append(entries, entry)
		}
	}
	return entries
}

func entryKey(entry metav1.ManagedFieldsEntry) string {
	return entry.Manager + "/" + string(entry.Operation) + "/" + entry.Subresource
}

func managerOf(entry metav1.ManagedFieldsEntry) FieldManagerOf {
	return FieldManagerOf{Manager: entry.Manager, Subresource: entry.Subresource}
}

func sortManagers(managers []FieldManagerOf) {
	slices.SortFunc(managers, func(a, b FieldManagerOf) int { return strings.Compare(a.String(), b.String()) })
}

// LastSpecChange finds, among a workload's managedFields, the field managers
// that own part of spec.template or spec.replicas and changed the object
// last (managedFields are dated to the second; undated entries, of the scale
// subresource, are left out). ok is false when no dated manager owns either.
func LastSpecChange(managedFields []metav1.ManagedFieldsEntry) (change SpecChange, ok bool) {
	for _, entry := range specEntries(managedFields) {
		if entry.Time == nil {
			continue
		}
		manager := managerOf(entry)
		switch {
		case !ok || entry.Time.Time.After(change.Time):
			change, ok = SpecChange{Managers: []FieldManagerOf{manager}, Time: entry.Time.Time}, true
		case entry.Time.Time.Equal(change.Time) && !slices.Contains(change.Managers, manager):
			change.Managers = append(change.Managers, manager)
		}
	}
	sortManagers(change.Managers)
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
