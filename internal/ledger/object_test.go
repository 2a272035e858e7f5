package ledger

import (
	"testing"
)

func TestVerifyObject(t *testing.T) {
	object := SignedObject{
		RequestUID: "uid-1", SpecHash: "0123456789abcdef", Kind: "Job",
		Namespace: "billing-grey", Name: "release-staging-smoke-01234567", ContentDigest: "sha256:aa",
	}
	signature := SignObject(testKey, object)
	if !VerifyObject(testKey, object, signature) {
		t.Fatalf("VerifyObject() of the object as signed = false, want true")
	}
	tests := []struct {
		name      string
		key       []byte
		change    func(*SignedObject)
		signature string
	}{
		{name: "another key", key: otherKey, signature: signature},
		{name: "no signature", key: testKey},
		{name: "not base64", key: testKey, signature: "%%%"},
		{name: "another request", key: testKey, signature: signature, change: func(o *SignedObject) { o.RequestUID = "uid-2" }},
		{name: "another spec", key: testKey, signature: signature, change: func(o *SignedObject) { o.SpecHash = "fedcba9876543210" }},
		{name: "another kind", key: testKey, signature: signature, change: func(o *SignedObject) { o.Kind = "ConfigMap" }},
		{name: "another namespace", key: testKey, signature: signature, change: func(o *SignedObject) { o.Namespace = "billing" }},
		{name: "another name", key: testKey, signature: signature, change: func(o *SignedObject) { o.Name = "x" }},
		{name: "other content", key: testKey, signature: signature, change: func(o *SignedObject) { o.ContentDigest = "sha256:bb" }},
		// Fields must not run into each other.
		{name: "shifted fields", key: testKey, signature: signature, change: func(o *SignedObject) {
			o.Namespace, o.Name = "billing-grey-release", "staging-smoke-01234567"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := object
			if tt.change != nil {
				tt.change(&changed)
			}
			if VerifyObject(tt.key, changed, tt.signature) {
				t.Errorf("VerifyObject() = true, want false")
			}
		})
	}
}

func TestContentDigest(t *testing.T) {
	a, err := ContentDigest(map[string]string{"a": "1", "b": "2"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ContentDigest(map[string]string{"b": "2", "a": "1"})
	if a != b {
		t.Errorf("ContentDigest() depends on map order: %s, %s", a, b)
	}
	c, _ := ContentDigest(map[string]string{"a": "1", "b": "3"})
	if a == c {
		t.Errorf("ContentDigest() of different content is equal: %s", a)
	}
}

func TestShortSpecHash(t *testing.T) {
	if got := ShortSpecHash("sha256:0123456789abcdef0123"); got != "0123456789abcdef" {
		t.Errorf("ShortSpecHash() = %q, want %q", got, "0123456789abcdef")
	}
}
