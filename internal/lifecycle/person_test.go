package lifecycle

import "testing"

func TestSamePerson(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"bob", "bob", true},
		{"Bob@Example.com", "bob@example.com", true},
		{" bob", "bob ", true},
		{"bob", "bobby", false},
		{"bob", "carol", false},
		{"", "", false},
		{"  ", "", false},
		{"", "bob", false},
	} {
		if got := SamePerson(tc.a, tc.b); got != tc.want {
			t.Errorf("SamePerson(%q, %q) = %t, want %t", tc.a, tc.b, got, tc.want)
		}
	}
}
