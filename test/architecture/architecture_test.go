// Package architecture checks the layering golive's packages keep: who may
// import whom, that every reconciler lives in internal/controller, and that
// internal/lifecycle stays in files a reader can hold in their head. Run it
// with `go test ./test/architecture`; it needs only the go command.
package architecture

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	module = "github.com/golive-dev/golive"
	// repoRoot is the repository, seen from this package's folder.
	repoRoot = "../.."
	// maxLifecycleLines bounds a non-test file of internal/lifecycle.
	maxLifecycleLines = 300
)

// deps maps each of the module's packages to every package it imports,
// directly or not, outside its tests (go list -deps).
func deps(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{"\t"}}{{join .Deps " "}}`, "./...")
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	graph := map[string][]string{}
	scanner := bufio.NewScanner(bytes.NewReader(out))
	scanner.Buffer(nil, 1<<24)
	for scanner.Scan() {
		path, imports, _ := strings.Cut(scanner.Text(), "\t")
		graph[path] = strings.Fields(imports)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if len(graph) == 0 {
		t.Fatal("go list found no packages")
	}
	return graph
}

func TestImports(t *testing.T) {
	graph := deps(t)
	forbidden := []struct {
		from, to, why string
	}{
		{"internal/controller", "internal/admission", "the controller acts on commands by the lifecycle's rules; admission is the webhook's"},
		{"internal/verify", "internal/lifecycle", "verification runs checks; the lifecycle decides what their results mean"},
	}
	for _, rule := range forbidden {
		from, to := module+"/"+rule.from, module+"/"+rule.to
		if _, ok := graph[from]; !ok {
			t.Errorf("package %s not found: update this rule", rule.from)
			continue
		}
		if slices.Contains(graph[from], to) {
			t.Errorf("%s imports %s: %s", rule.from, rule.to, rule.why)
		}
	}

	// Domain packages do not reach up into the controllers that wire them.
	controller := module + "/internal/controller"
	mayImportController := []string{
		controller,
		module + "/cmd",                   // wires the manager
		module + "/internal/testenv",      // starts the controllers for tests
		module + "/test/",                 // harnesses that run golive
		module + "/internal/testfixtures", // (does not today; tests only)
	}
	for path, imports := range graph {
		if !slices.Contains(imports, controller) {
			continue
		}
		allowed := slices.ContainsFunc(mayImportController, func(prefix string) bool {
			return path == prefix || (strings.HasSuffix(prefix, "/") && strings.HasPrefix(path, prefix))
		})
		if !allowed {
			t.Errorf("%s imports internal/controller: domain packages are imported by the controllers, not the other way round", strings.TrimPrefix(path, module+"/"))
		}
	}
}

// goFiles lists the repository's non-test Go files, relative to its root.
func goFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(repoRoot, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := entry.Name()
		if entry.IsDir() {
			if path != repoRoot && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Every Reconcile method lives in internal/controller, so that there is one
// place to read how golive reacts to the cluster.
func TestReconcilersLiveInController(t *testing.T) {
	found := 0
	fset := token.NewFileSet()
	for _, file := range goFiles(t) {
		parsed, err := parser.ParseFile(fset, filepath.Join(repoRoot, file), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range parsed.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "Reconcile" {
				continue
			}
			found++
			if filepath.Dir(file) != "internal/controller" {
				t.Errorf("%s: a Reconcile method outside internal/controller", fset.Position(fn.Pos()))
			}
		}
	}
	if found == 0 {
		t.Error("no Reconcile method found at all: the check looks in the wrong place")
	}
}

// internal/lifecycle holds the rules; each file stays short enough to read whole.
func TestLifecycleFilesAreShort(t *testing.T) {
	dir := filepath.Join(repoRoot, "internal", "lifecycle")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		checked++
		if lines := bytes.Count(content, []byte("\n")); lines > maxLifecycleLines {
			t.Errorf("internal/lifecycle/%s has %d lines, more than %d: split it by concern", name, lines, maxLifecycleLines)
		}
	}
	if checked == 0 {
		t.Error("no file found in internal/lifecycle")
	}
}
