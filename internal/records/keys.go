package records

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// PublicKeyPEM is key as a PEM block "PUBLIC KEY" (PKIX), as ConfigMap
// golive-record-key publishes it under the data key KeyFile(key).
func PublicKeyPEM(key ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeyFile is the data key of key in ConfigMap golive-record-key.
func KeyFile(key ed25519.PublicKey) string {
	return KeyID(key) + ".pem"
}

// ParsePublicKeys reads Ed25519 public keys, by key ID, from PEM blocks
// "PUBLIC KEY" or from ConfigMap golive-record-key as YAML or JSON (such as
// `kubectl get configmap golive-record-key -o yaml` writes), whose data
// values are such blocks.
func ParsePublicKeys(data []byte) (map[string]ed25519.PublicKey, error) {
	keys := map[string]ed25519.PublicKey{}
	if block, _ := pem.Decode(data); block == nil {
		var configMap corev1.ConfigMap
		if err := yaml.Unmarshal(data, &configMap); err != nil || len(configMap.Data) == 0 {
			return nil, errors.New("neither PEM public keys nor a ConfigMap with public keys in its data")
		}
		for _, name := range slices.Sorted(maps.Keys(configMap.Data)) {
			found, err := ParsePublicKeys([]byte(configMap.Data[name]))
			if err != nil {
				return nil, fmt.Errorf("data.%s: %w", name, err)
			}
			maps.Copy(keys, found)
		}
		return keys, nil
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			continue
		}
		parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("reading a public key: %w", err)
		}
		key, ok := parsed.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a public key of type %T, not Ed25519", parsed)
		}
		keys[KeyID(key)] = key
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM block \"PUBLIC KEY\"")
	}
	return keys, nil
}
