package verify

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/golive-dev/golive/internal/testenv"
)

// apiServer is started by the first test that needs one, so that the pure
// tests of this package run without a control plane.
var apiServer struct {
	once sync.Once
	env  *testenv.Env
	err  error
}

// startAPIServer returns the API server the envtest tests share; each works in
// namespaces of its own.
func startAPIServer(t *testing.T) *testenv.Env {
	t.Helper()
	apiServer.once.Do(func() {
		apiServer.env, apiServer.err = testenv.Start(context.Background())
	})
	if apiServer.err != nil {
		t.Fatalf("Starting the test API server: %v", apiServer.err)
	}
	return apiServer.env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if apiServer.env != nil {
		if err := apiServer.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "Failed to stop the test API server:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}
