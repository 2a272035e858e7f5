package workload_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/releasecontent"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/internal/workload"
)

// configMapGets counts the ConfigMaps read through it.
type configMapGets struct {
	client.Reader
	gets int
}

func (r *configMapGets) Get(ctx context.Context, key client.ObjectKey, object client.Object, options ...client.GetOption) error {
	if _, ok := object.(*corev1.ConfigMap); ok {
		r.gets++
	}
	return r.Reader.Get(ctx, key, object, options...)
}

// readingConfig is billing-api reading ConfigMap configMap (envFrom) and Secret secret (a volume).
func readingConfig(namespace, configMap, secret string) *appsv1.Deployment {
	labels := map[string]string{"app": "billing"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "billing-api"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "api", Image: "billing-api:2.3.1",
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: configMap}}}}}},
				Volumes: []corev1.Volume{{Name: "credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}},
			}},
		},
	}
}

func getObject(t *testing.T, object client.Object, namespace, name string) error {
	t.Helper()
	return env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, object)
}

// The copies of a release's configuration: named by content, made in both
// namespaces once, used by the targets, and deleted at retention once
// nothing references them.
func TestConfigCopies(t *testing.T) {
	ctx := t.Context()
	production, grey := newNamespace(t), newNamespace(t)
	target := v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]v1alpha1.Image{"api": "billing-api:2.4.0"}}
	release := map[string]string{"LOG_LEVEL": "info"}
	request := testfixtures.MakeUpdateRequest(production, "billing-2-4-0").Release("2.4.0").Targets(target).Staging(grey).
		Approval("rnd-lead", 1).Window("thursday-evening").
		ConfigMap("billing-config", release).Secret("billing-credentials", "billing-credentials-2-4-0").Obj()
	if err := env.Client.Create(ctx, request); err != nil {
		t.Fatal(err)
	}

	// A Secret source that does not exist is a problem naming the field.
	copies, problems, err := workload.ResolveConfig(ctx, env.Client, request)
	if err != nil || len(copies) != 1 || len(problems) != 1 ||
		problems[0] != `spec.config[1].fromSecret: Secret "billing-credentials-2-4-0" not found in namespace "`+production+`"` {
		t.Fatalf("ResolveConfig() without the source = %+v, %q, %v", copies, problems, err)
	}
	source := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: production, Name: "billing-credentials-2-4-0"},
		Data: map[string][]byte{"password": []byte("s3cret")}}
	if err := env.Client.Create(ctx, source); err != nil {
		t.Fatal(err)
	}
	copies, problems, err = workload.ResolveConfig(ctx, env.Client, request)
	configCopy := releasecontent.CopyName("billing-config", releasecontent.ContentHash(release, nil))
	secretCopy := releasecontent.CopyName("billing-credentials", releasecontent.ContentHash(nil, source.Data))
	if err != nil || len(problems) != 0 || len(copies) != 2 || copies[0].Copy != configCopy || copies[1].Copy != secretCopy ||
		!slices.Equal(copies[1].Keys, []string{"password"}) {
		t.Fatalf("ResolveConfig() = %+v, %q, %v", copies, problems, err)
	}
	request.Status.Config = copies

	// Made in both namespaces, once: a second call changes nothing.
	for range 2 {
		if err := workload.EnsureConfigCopies(ctx, env.Client, env.Client, request, grey, production); err != nil {
			t.Fatalf("EnsureConfigCopies() = %v", err)
		}
	}
	for _, namespace := range []string{grey, production} {
		var configMap corev1.ConfigMap
		if err := getObject(t, &configMap, namespace, configCopy); err != nil || !ptr.Deref(configMap.Immutable, false) || configMap.Data["LOG_LEVEL"] != "info" ||
			configMap.Labels[v1alpha1.LabelConfigOf] != "billing-config" || len(configMap.OwnerReferences) != 0 {
			t.Errorf("ConfigMap %s/%s = %+v, %v", namespace, configCopy, configMap, err)
		}
		var secret corev1.Secret
		if err := getObject(t, &secret, namespace, secretCopy); err != nil || !ptr.Deref(secret.Immutable, false) || string(secret.Data["password"]) != "s3cret" {
			t.Errorf("Secret %s/%s = %+v, %v", namespace, secretCopy, secret, err)
		}
		if copied, notOurs, err := workload.ObserveConfigCopies(ctx, env.Client, env.Client, namespace, copies); !copied || notOurs != "" || err != nil {
			t.Errorf("ObserveConfigCopies(%s) = %v, %q, %v", namespace, copied, notOurs, err)
		}
		// The cache serves a ConfigMap copy without asking the API server.
		live := &configMapGets{Reader: env.Client}
		if copied, _, err := workload.ObserveConfigCopies(ctx, env.Client, live, namespace, copies); !copied || err != nil || live.gets != 0 {
			t.Errorf("ObserveConfigCopies(%s) from the cache = %v, %v; %d ConfigMaps read from the API server, want 0", namespace, copied, err, live.gets)
		}
		// A cache that lacks it (lagging behind its creation) is confirmed by the API server.
		emptyCache := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).Build()
		if copied, _, err := workload.ObserveConfigCopies(ctx, emptyCache, live, namespace, copies); !copied || err != nil || live.gets != 1 {
			t.Errorf("ObserveConfigCopies(%s) past an empty cache = %v, %v; %d ConfigMaps read from the API server, want 1", namespace, copied, err, live.gets)
		}
	}

	// An object at a copy's name with other content is never used.
	elsewhere := newNamespace(t)
	planted := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: elsewhere, Name: configCopy}, Immutable: ptr.To(true), Data: map[string]string{"LOG_LEVEL": "trace"}}
	if err := env.Client.Create(ctx, planted); err != nil {
		t.Fatal(err)
	}
	if copied, notOurs, err := workload.ObserveConfigCopies(ctx, env.Client, env.Client, elsewhere, copies); copied || !strings.Contains(notOurs, "holds other content than its name says") || err != nil {
		t.Errorf("ObserveConfigCopies() of a planted ConfigMap = %v, %q, %v", copied, notOurs, err)
	}

	// The target is pointed at the copies; a second apply writes nothing.
	gitops := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: production, Name: "billing-config"}, Data: map[string]string{"LOG_LEVEL": "debug"}}
	previous := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: production, Name: "billing-config-0123456789",
		Labels: map[string]string{v1alpha1.LabelConfigOf: "billing-config"}}, Data: map[string]string{"LOG_LEVEL": "warn"}}
	for _, object := range []client.Object{gitops, previous, readingConfig(production, previous.Name, "billing-credentials")} {
		if err := env.Client.Create(ctx, object); err != nil {
			t.Fatal(err)
		}
	}
	renames := workload.Renames(copies)
	var before, after appsv1.Deployment
	if err := getObject(t, &before, production, "billing-api"); err != nil {
		t.Fatal(err)
	}
	if workload.ConfigApplied(&before, renames) {
		t.Error("ConfigApplied() before the apply = true")
	}
	for range 2 {
		if err := workload.ApplyConfig(ctx, env.Client, env.Client, target, production, renames); err != nil {
			t.Fatalf("ApplyConfig() = %v", err)
		}
	}
	if err := getObject(t, &after, production, "billing-api"); err != nil {
		t.Fatal(err)
	}
	spec := after.Spec.Template.Spec
	if !workload.ConfigApplied(&after, renames) || spec.Containers[0].EnvFrom[0].ConfigMapRef.Name != configCopy || spec.Volumes[0].Secret.SecretName != secretCopy ||
		after.Generation != before.Generation+1 {
		t.Errorf("after ApplyConfig() twice: envFrom %s, secret %s, generation %d (was %d)", spec.Containers[0].EnvFrom[0].ConfigMapRef.Name,
			spec.Volumes[0].Secret.SecretName, after.Generation, before.Generation)
	}

	// The saved specs point at the copy the release replaced.
	saved, err := json.Marshal(workload.SavedSpec{Kind: target.Kind, Name: target.Name, PodTemplate: before.Spec.Template})
	if err != nil {
		t.Fatal(err)
	}
	savedSpecs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: production, Name: workload.SavedSpecsName(request.Name),
		Labels: map[string]string{v1alpha1.LabelRequest: request.Name, v1alpha1.LabelRequestUID: string(request.UID)}},
		Data: map[string]string{"Deployment.billing-api": string(saved)}}
	if err := env.Client.Create(ctx, savedSpecs); err != nil {
		t.Fatal(err)
	}
	// A copy the request made for an earlier spec, which status.config no longer names.
	earlier := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: grey, Name: "billing-config-fedcba9876", Labels: map[string]string{
		v1alpha1.LabelConfigOf: "billing-config", v1alpha1.LabelRequestUID: string(request.UID)}}, Data: map[string]string{"LOG_LEVEL": "error"}}
	if err := env.Client.Create(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	// At retention: the copy the release replaced goes; the release's copies
	// stay in production, which reads them, and go in staging, which does not.
	if err := workload.DeleteConfigCopies(ctx, env.Client, env.Client, request); err != nil {
		t.Fatalf("DeleteConfigCopies() = %v", err)
	}
	exists := func(object client.Object, namespace, name string) bool {
		err := getObject(t, object, namespace, name)
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	for _, want := range []struct {
		object          client.Object
		namespace, name string
		exists          bool
	}{
		{&corev1.ConfigMap{}, production, previous.Name, false},
		{&corev1.ConfigMap{}, production, configCopy, true},
		{&corev1.Secret{}, production, secretCopy, true},
		{&corev1.ConfigMap{}, grey, configCopy, false},
		{&corev1.Secret{}, grey, secretCopy, false},
		{&corev1.ConfigMap{}, production, "billing-config", true},
		{&corev1.ConfigMap{}, grey, earlier.Name, false},
	} {
		if got := exists(want.object, want.namespace, want.name); got != want.exists {
			t.Errorf("%T %s/%s exists = %v after DeleteConfigCopies(), want %v", want.object, want.namespace, want.name, got, want.exists)
		}
	}
}
