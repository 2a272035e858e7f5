// Package recordkey reads golive's Ed25519 key that signs ReleaseRecords
// from its Secret, creating the Secret with a new key on the first start,
// and publishes the public half in ConfigMap golive-record-key. It is apart
// from package records so that signing and verification stay pure.
package recordkey

import (
	"context"
	"crypto/ed25519"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/golive-dev/golive/internal/keysecret"
	"github.com/golive-dev/golive/internal/records"
)

const (
	// DefaultSecret is the Secret, in golive's namespace, that holds the signing key.
	DefaultSecret = "golive-record-signing-key"
	// Field is the Secret's data key that holds the key's 32-byte seed.
	Field = "seed"
	// PublicConfigMap is the ConfigMap, in the archive namespace, that lists
	// every public key that signed records, the current one and the old ones.
	PublicConfigMap = "golive-record-key"
)

// LoadOrCreate reads the signing key from the Secret secret, creating the
// Secret with a new key if it does not exist. The Secret is immutable: a new
// key is made by deleting it and restarting golive (docs/records.md). The
// key is never logged.
func LoadOrCreate(ctx context.Context, reader client.Reader, writer client.Writer, secret types.NamespacedName) (ed25519.PrivateKey, error) {
	seed, err := keysecret.LoadOrCreate(ctx, reader, writer, secret, keysecret.Key{
		What: "record signing key", Field: Field, Size: ed25519.SeedSize, Component: "record-signing-key",
		Check: func(seed []byte) string {
			if len(seed) != ed25519.SeedSize {
				return fmt.Sprintf("an Ed25519 seed has %d", ed25519.SeedSize)
			}
			return ""
		},
	})
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Publish adds key's public half to ConfigMap golive-record-key in
// namespace, creating it if needed. Keys listed before stay: records signed
// with them must still verify after a rotation.
func Publish(ctx context.Context, reader client.Reader, writer client.Writer, namespace string, key ed25519.PrivateKey) error {
	public := key.Public().(ed25519.PublicKey)
	block, err := records.PublicKeyPEM(public)
	if err != nil {
		return err
	}
	name := types.NamespacedName{Namespace: namespace, Name: PublicConfigMap}
	var existing corev1.ConfigMap
	err = reader.Get(ctx, name, &existing)
	if apierrors.IsNotFound(err) {
		err = writer.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{
				Name: name.Name, Namespace: name.Namespace,
				Labels: map[string]string{"app.kubernetes.io/name": "golive", "app.kubernetes.io/component": "record-key"},
			},
			Data: map[string]string{records.KeyFile(public): string(block)},
		})
		if err == nil {
			log.FromContext(ctx).Info("Published the record signing key", "configMap", name, "keyID", records.KeyID(public))
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ConfigMap %s: %w", name, err)
		}
		err = reader.Get(ctx, name, &existing)
	}
	if err != nil {
		return fmt.Errorf("reading ConfigMap %s: %w", name, err)
	}
	if existing.Data[records.KeyFile(public)] == string(block) {
		return nil
	}
	base := existing.DeepCopy()
	if existing.Data == nil {
		existing.Data = map[string]string{}
	}
	existing.Data[records.KeyFile(public)] = string(block)
	if err := writer.Patch(ctx, &existing, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("adding the record signing key to ConfigMap %s: %w", name, err)
	}
	log.FromContext(ctx).Info("Published the record signing key", "configMap", name, "keyID", records.KeyID(public))
	return nil
}

// CheckArchive fails when the archive namespace does not exist or cannot be read.
func CheckArchive(ctx context.Context, reader client.Reader, namespace string) error {
	var object metav1.PartialObjectMetadata
	object.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := reader.Get(ctx, client.ObjectKey{Name: namespace}, &object); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("the archive namespace %s does not exist", namespace)
		}
		return fmt.Errorf("reading the archive namespace %s: %w", namespace, err)
	}
	return nil
}
