// Package keysecret keeps a key golive makes itself in an immutable Secret:
// read it, or on the first start create the Secret with random bytes. The
// ledger's HMAC key (ledgerkey) and the records' Ed25519 seed (recordkey)
// are kept this way.
package keysecret

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

// Key describes one key and its Secret.
type Key struct {
	// What names the key in messages, such as "ledger key".
	What string
	// Field is the Secret's data key that holds it.
	Field string
	// Size is the length of a new key.
	Size int
	// Component is the Secret's app.kubernetes.io/component label.
	Component string
	// Check says what is wrong with a key read from the Secret; "" when it will do.
	Check func(key []byte) string
}

// LoadOrCreate reads k from the Secret secret, creating the Secret with
// k.Size random bytes if it does not exist. The Secret is immutable: a new
// key is made deliberately, by deleting it and restarting golive. The key is
// never logged.
func LoadOrCreate(ctx context.Context, reader client.Reader, writer client.Writer, secret types.NamespacedName, k Key) ([]byte, error) {
	var existing corev1.Secret
	err := reader.Get(ctx, secret, &existing)
	if apierrors.IsNotFound(err) {
		key := make([]byte, k.Size)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generating a %s: %w", k.What, err)
		}
		created := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: secret.Name, Namespace: secret.Namespace,
				Labels: map[string]string{"app.kubernetes.io/name": "golive", "app.kubernetes.io/component": k.Component},
			},
			Type:      corev1.SecretTypeOpaque,
			Immutable: ptr.To(true),
			Data:      map[string][]byte{k.Field: key},
		}
		err = writer.Create(ctx, created)
		if err == nil {
			log.FromContext(ctx).Info("Created a key Secret", "key", k.What, "secret", secret)
			return key, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating the %s Secret %s: %w", k.What, secret, err)
		}
		// Another replica created it first.
		err = reader.Get(ctx, secret, &existing)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s Secret %s: %w", k.What, secret, err)
	}
	key := existing.Data[k.Field]
	if problem := k.Check(key); problem != "" {
		return nil, fmt.Errorf("the %s Secret %s has %d bytes in data.%s; %s", k.What, secret, len(key), k.Field, problem)
	}
	return key, nil
}
