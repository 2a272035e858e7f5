package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTrimDropsDescriptionsInsideJobTemplatesOnly(t *testing.T) {
	in := `---
spec:
  versions:
  - schema:
      openAPIV3Schema:
        description: the kind
        properties:
          jobs:
            description: jobs list
            items:
              properties:
                template:
                  description: golive's own words
                  properties:
                    spec:
                      description: upstream words
                      properties:
                        description:
                          description: upstream field called description
                          type: string
                      type: object
                  type: object
              type: object
            type: array
          template:
            description: a template outside jobs keeps its words
            type: object
        type: object
`
	want := `---
spec:
  versions:
    - schema:
        openAPIV3Schema:
          description: the kind
          properties:
            jobs:
              description: jobs list
              items:
                properties:
                  template:
                    description: golive's own words
                    properties:
                      spec:
                        properties:
                          description:
                            type: string
                        type: object
                    type: object
                type: object
              type: array
            template:
              description: a template outside jobs keeps its words
              type: object
          type: object
`
	path := filepath.Join(t.TempDir(), "crd.yaml")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := trimFile(path); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Fatalf("trimmed CRD (-want +got):\n%s", diff)
		}
	}
}
