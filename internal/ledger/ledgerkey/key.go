package ledgerkey

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/keysecret"
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
	return keysecret.LoadOrCreate(ctx, reader, writer, secret, keysecret.Key{
		What: "ledger key", Field: Field, Size: keyBytes, Component: "ledger-key",
		Check: func(key []byte) string {
			if len(key) < keyBytes {
				return fmt.Sprintf("at least %d are needed", keyBytes)
			}
			return ""
		},
	})
}
