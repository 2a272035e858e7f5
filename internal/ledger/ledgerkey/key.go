package ledgerkey

import (
	"context"
	"crypto/rand"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

const (
	// DefaultSecret is the Secret, in golive's namespace, that holds the ledger key.
	DefaultSecret = "golive-ledger-key"
	// Field is the Secret's data key that holds the ledger key.
	Field = "key"
	// keyBytes is the length of a generated key and the least accepted:
	// SHA-256's output length, the minimum RFC 2104 recommends for HMAC keys.
	keyBytes = 32
)

// LoadOrCreate reads the ledger key from the Secret secret, creating the
// Secret with a random key if it does not exist. The Secret is immutable:
// changing the key invalidates every entry signed with the old one, so it is
// replaced only deliberately (delete and restart, see docs/approvals.md). The
// key is never logged.
func LoadOrCreate(ctx context.Context, reader client.Reader, writer client.Writer, secret types.NamespacedName) ([]byte, error) {
	var existing corev1.Secret
	err := reader.Get(ctx, secret, &existing)
	if apierrors.IsNotFound(err) {
		key := make([]byte, keyBytes)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generating a ledger key: %w", err)
		}
		created := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: secret.Name, Namespace: secret.Namespace,
				Labels: map[string]string{"app.kubernetes.io/name": "golive", "app.kubernetes.io/component": "ledger-key"},
			},
			Type:      corev1.SecretTypeOpaque,
			Immutable: ptr.To(true),
			Data:      map[string][]byte{Field: key},
		}
		err = writer.Create(ctx, created)
		if err == nil {
			log.FromContext(ctx).Info("Created the ledger key Secret", "secret", secret)
			return key, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating the ledger key Secret %s: %w", secret, err)
		}
		// Another replica created it first.
		err = reader.Get(ctx, secret, &existing)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the ledger key Secret %s: %w", secret, err)
	}
	key := existing.Data[Field]
	if len(key) < keyBytes {
		return nil, fmt.Errorf("the ledger key Secret %s has %d bytes in data.%s; at least %d are needed",
			secret, len(key), Field, keyBytes)
	}
	return key, nil
}
