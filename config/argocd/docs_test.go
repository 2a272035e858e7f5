package argocd

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/golive-dev/golive/internal/testenv"
)

// healthKeyPrefix is how argocd-cm names a custom health check: <prefix><group>_<kind>.
const healthKeyPrefix = "resource.customizations.health.golive.dev_"

// docs/gitops.md shows the argocd-cm entries people copy; they must be these
// scripts byte for byte, so the two cannot drift apart.
func TestDocsShowTheHealthChecks(t *testing.T) {
	block := yamlBlockContaining(t, filepath.Join(testenv.RepoRoot(), "docs", "gitops.md"), healthKeyPrefix)
	var configMap corev1.ConfigMap
	if err := yaml.UnmarshalStrict(block, &configMap); err != nil {
		t.Fatalf("The argocd-cm of docs/gitops.md is not a ConfigMap: %v", err)
	}
	if configMap.Name != "argocd-cm" {
		t.Errorf("The ConfigMap of docs/gitops.md is %q, want argocd-cm", configMap.Name)
	}
	var keys []string
	for kind, path := range scripts {
		key := healthKeyPrefix + kind
		keys = append(keys, key)
		script, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		shown, ok := configMap.Data[key]
		if !ok {
			t.Errorf("docs/gitops.md does not show %s", key)
			continue
		}
		if diff := cmp.Diff(string(script), shown); diff != "" {
			t.Errorf("docs/gitops.md shows %s differently from %s (-file +docs):\n%s", key, path, diff)
		}
	}
	for key := range configMap.Data {
		if !slices.Contains(keys, key) {
			t.Errorf("docs/gitops.md shows %s, which has no script in config/argocd", key)
		}
	}
}

// yamlBlockContaining returns the one ```yaml block of a Markdown file that contains marker.
func yamlBlockContaining(t *testing.T, path, marker string) []byte {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]byte
	var block *bytes.Buffer
	scanner := bufio.NewScanner(bytes.NewReader(doc))
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case block == nil && strings.TrimSpace(line) == "```yaml":
			block = &bytes.Buffer{}
		case block != nil && strings.TrimSpace(line) == "```":
			if bytes.Contains(block.Bytes(), []byte(marker)) {
				blocks = append(blocks, block.Bytes())
			}
			block = nil
		case block != nil:
			block.WriteString(line + "\n")
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 {
		t.Fatalf("%s has %d yaml blocks with %q, want exactly one", path, len(blocks), marker)
	}
	return blocks[0]
}
