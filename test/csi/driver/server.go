package driver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
)

// SocketPath accepts an endpoint as the sidecars' --csi-address does: a plain
// path or a unix:// URL.
func SocketPath(endpoint string) string {
	if p, ok := strings.CutPrefix(endpoint, "unix://"); ok {
		return p
	}
	return endpoint
}

// Listen listens on the unix socket at endpoint, removing a stale socket file
// that an earlier run left behind.
func Listen(endpoint string) (net.Listener, error) {
	path := SocketPath(endpoint)
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	return net.Listen("unix", path)
}

// NewServer returns a gRPC server with the driver's Identity and Controller
// services, logging every call that fails (and, with debug logging, every call).
func NewServer(d *Driver, log *slog.Logger) *grpc.Server {
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			log.Warn("call failed", "method", info.FullMethod, "request", req, "error", err)
		} else {
			log.Debug("call", "method", info.FullMethod, "request", req, "response", resp)
		}
		return resp, err
	}))
	csi.RegisterIdentityServer(srv, d)
	csi.RegisterControllerServer(srv, d)
	return srv
}

// Serve serves the driver on the unix socket at endpoint until ctx is done.
func Serve(ctx context.Context, d *Driver, endpoint string, log *slog.Logger) error {
	lis, err := Listen(endpoint)
	if err != nil {
		return err
	}
	srv := NewServer(d, log)
	stop := context.AfterFunc(ctx, srv.GracefulStop)
	defer stop()
	err = srv.Serve(lis)
	_ = os.Remove(SocketPath(endpoint))
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}
