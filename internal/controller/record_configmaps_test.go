package controller

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/records/recordkey"
	"github.com/golive-dev/golive/internal/testenv"
)

// configArchive is the archive namespace of config/, the one the policy
// golive-record-configmaps guards there.
const configArchive = "golive-system"

// grantConfigMaps lets user do anything with ConfigMaps in namespace, so
// that only the admission policy can refuse.
func grantConfigMaps(t *testing.T, namespace, user string) {
	t.Helper()
	ctx := t.Context()
	name := "configmaps-" + user
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	}
	for _, object := range []client.Object{role, binding} {
		if err := testenv.IgnoreAlreadyExists(env.Client.Create(ctx, object)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecordConfigMapsAreGoliveAlone: in the archive namespace, the chain's
// head and the public keys are created, changed and deleted by golive alone
// (and deleted by the namespace controller); someone with every right on
// ConfigMaps there, or the break-glass administrator, is refused and told
// why. Other ConfigMaps there, and ConfigMaps of those names elsewhere, are
// not the policy's.
func TestRecordConfigMapsAreGoliveAlone(t *testing.T) {
	ctx := t.Context()
	elsewhere := newNamespace(t)
	if err := testenv.IgnoreAlreadyExists(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: configArchive}})); err != nil {
		t.Fatal(err)
	}
	for _, namespace := range []string{configArchive, elsewhere} {
		grantConfigMaps(t, namespace, "mallory")
	}
	mallory, err := env.ClientAs("mallory")
	if err != nil {
		t.Fatal(err)
	}
	golive, err := env.ClientAs(goliveServiceAccount, "system:serviceaccounts", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	namespaceController, err := env.ClientAs("system:serviceaccount:kube-system:namespace-controller", "system:serviceaccounts", "system:masters")
	if err != nil {
		t.Fatal(err)
	}

	configMap := func(namespace, name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Data:       map[string]string{"billing": "the newest record"},
		}
	}
	rewind := func(ctx context.Context, c client.Client, namespace, name string) error {
		var current corev1.ConfigMap
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &current); err != nil {
			return err
		}
		current.Data = map[string]string{"billing": "an older record"}
		return c.Update(ctx, &current)
	}
	purposes := map[string]string{
		ChainConfigMap:            "keeps the head of each chain of ReleaseRecords",
		recordkey.PublicConfigMap: "publishes the public keys that verify ReleaseRecords",
	}
	refusal := func(name, verb, user string) []string {
		return []string{
			"ConfigMap " + configArchive + "/" + name + " " + purposes[name],
			"only golive (" + goliveServiceAccount + ") may " + verb + " it",
			user + " may not",
		}
	}
	forbidden := func(what string, err error, want ...string) string {
		if problem := refusedWith(what, err, want...); problem != "" {
			return problem
		}
		if !apierrors.IsForbidden(err) {
			return fmt.Sprintf("%s was refused, but not as Forbidden: %v", what, err)
		}
		return ""
	}

	for name := range purposes {
		// Left by an earlier run or another test: golive may remove them.
		if err := client.IgnoreNotFound(golive.Delete(ctx, configMap(configArchive, name))); err != nil {
			t.Fatalf("golive deleting %s: %v", name, err)
		}
		// The policy takes effect once the API server compiled it, and RBAC once it saw the binding.
		eventually(t, func(ctx context.Context) string {
			return forbidden("mallory creating "+name, mallory.Create(ctx, configMap(configArchive, name)), refusal(name, "create", "mallory")...)
		})
		if err := golive.Create(ctx, configMap(configArchive, name)); err != nil {
			t.Fatalf("golive creating %s: %v", name, err)
		}
		for _, check := range []struct {
			what string
			err  error
			want []string
		}{
			{"mallory rewinding " + name, rewind(ctx, mallory, configArchive, name), refusal(name, "update", "mallory")},
			{"mallory deleting " + name, mallory.Delete(ctx, configMap(configArchive, name)), refusal(name, "delete", "mallory")},
			{"the break-glass administrator rewinding " + name, rewind(ctx, env.Client, configArchive, name),
				append(refusal(name, "update", "")[:2], "not even the break-glass group")},
		} {
			if problem := forbidden(check.what, check.err, check.want...); problem != "" {
				t.Error(problem)
			}
		}
		if err := rewind(ctx, golive, configArchive, name); err != nil {
			t.Errorf("golive updating %s: %v", name, err)
		}
	}
	if err := golive.Delete(ctx, configMap(configArchive, ChainConfigMap)); err != nil {
		t.Errorf("golive deleting %s: %v", ChainConfigMap, err)
	}
	// Emptying the namespace being deleted.
	if err := namespaceController.Delete(ctx, configMap(configArchive, recordkey.PublicConfigMap)); err != nil {
		t.Errorf("the namespace controller deleting %s: %v", recordkey.PublicConfigMap, err)
	}

	// Not the policy's: another ConfigMap in the archive, the same names elsewhere.
	for _, key := range []client.ObjectKey{
		{Namespace: configArchive, Name: "golive-record-notes"},
		{Namespace: elsewhere, Name: ChainConfigMap},
		{Namespace: elsewhere, Name: recordkey.PublicConfigMap},
	} {
		eventually(t, func(ctx context.Context) string {
			if err := mallory.Create(ctx, configMap(key.Namespace, key.Name)); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Sprintf("mallory creating %s: %v", key, err)
			}
			return ""
		})
		if err := rewind(ctx, mallory, key.Namespace, key.Name); err != nil {
			t.Errorf("mallory updating %s: %v", key, err)
		}
		if err := mallory.Delete(ctx, configMap(key.Namespace, key.Name)); err != nil {
			t.Errorf("mallory deleting %s: %v", key, err)
		}
	}
}
