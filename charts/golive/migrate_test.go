package chart_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/golive-dev/golive/internal/testenv"
)

// TestKustomizeInstallMovesToHelm follows docs/install.md, "Moving from the
// kustomize install to Helm", on a real API server: config/default applied
// server-side as kubectl does, then the Deployment deleted and the chart
// installed with --take-ownership --force-conflicts. Helm must take over every
// object, and the CRDs and golive's Secrets must stay.
func TestKustomizeInstallMovesToHelm(t *testing.T) {
	helmPath := helm(t)
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		needTool(t, "KUBEBUILDER_ASSETS is not set: run `make chart-test` or `make test`, which build the control plane and set it")
	}
	ctx := t.Context()
	env, err := testenv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the API server: %v", err)
		}
	})

	// kubectl apply --server-side -k config/default
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	documents, err := resources.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objects, err := decodeManifests(documents)
	if err != nil {
		t.Fatal(err)
	}
	// The namespace first, as kubectl orders a kustomization.
	slices.SortStableFunc(objects, func(a, b *unstructured.Unstructured) int {
		return boolRank(a.GetKind() != "Namespace") - boolRank(b.GetKind() != "Namespace")
	})
	for _, object := range objects {
		// testenv installed the CRDs and admission policies already, as another field manager.
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(object), client.FieldOwner("kubectl"), client.ForceOwnership)
		if err != nil {
			t.Fatalf("applying %s %s as kubectl does: %v", object.GetKind(), object.GetName(), err)
		}
	}
	// What the manager created, and what the move must keep.
	ledgerKey := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "golive-ledger-key", Namespace: "golive-system"},
		Data:       map[string][]byte{"key": []byte("0123456789abcdef0123456789abcdef")},
	}
	if err := env.Client.Create(ctx, ledgerKey); err != nil {
		t.Fatal(err)
	}
	crd := updateRequestCRD(t, env)

	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "golive", Namespace: "golive-system"}}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, helmPath, "install", release, ".", "--namespace", "golive-system",
		"--take-ownership", "--force-conflicts", "--kubeconfig", kubeconfig)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm install --take-ownership: %v\n%s", err, output.String())
	}

	// Every object both install creates is Helm's now.
	for _, object := range objects {
		switch object.GetKind() {
		case "CustomResourceDefinition", "Namespace":
			continue
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(object.GroupVersionKind())
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(object), got); err != nil {
			t.Errorf("%s %s: %v", object.GetKind(), object.GetName(), err)
			continue
		}
		if got.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" || got.GetAnnotations()["meta.helm.sh/release-name"] != release {
			t.Errorf("%s %s is not the Helm release's: labels %v, annotations %v", object.GetKind(), object.GetName(), got.GetLabels(), got.GetAnnotations())
		}
	}
	if after := updateRequestCRD(t, env); after.UID != crd.UID {
		t.Error("the UpdateRequest CRD was replaced, and with it every request")
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ledgerKey), &corev1.Secret{}); err != nil {
		t.Errorf("the ledger key: %v", err)
	}
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// updateRequestCRD is the UpdateRequest CRD's metadata.
func updateRequestCRD(t *testing.T, env *testenv.Env) *metav1.PartialObjectMetadata {
	t.Helper()
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: "updaterequests.golive.dev"}, crd); err != nil {
		t.Fatal(err)
	}
	return crd
}
