package driver_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/golive-dev/golive/test/csi/driver"
)

// clients is the driver as the sidecars see it: gRPC over a unix socket.
type clients struct {
	csi.IdentityClient
	csi.ControllerClient
	root string
}

// start serves a driver with data root root (a new one if empty) on a fresh
// unix socket and connects to it; everything stops at the end of the test.
func start(t *testing.T, root string) clients {
	t.Helper()
	if root == "" {
		root = t.TempDir()
	}
	d, err := driver.New(driver.DefaultName, root)
	if err != nil {
		t.Fatal(err)
	}
	// A short directory of its own: unix socket paths are limited to ~108 bytes.
	sockDir, err := os.MkdirTemp("", "csi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	endpoint := "unix://" + filepath.Join(sockDir, "csi.sock")

	lis, err := driver.Listen(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	srv := driver.NewServer(d, slog.New(slog.NewTextHandler(&testWriter{t}, nil)))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()

	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.GracefulStop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return clients{csi.NewIdentityClient(conn), csi.NewControllerClient(conn), root}
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

var mountRWO = []*csi.VolumeCapability{{
	AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
	AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
}}

func volumeRequest(name string, size int64, snapshotID string) *csi.CreateVolumeRequest {
	req := &csi.CreateVolumeRequest{
		Name:               name,
		CapacityRange:      &csi.CapacityRange{RequiredBytes: size},
		VolumeCapabilities: mountRWO,
		AccessibilityRequirements: &csi.TopologyRequirement{
			Requisite: []*csi.Topology{{Segments: map[string]string{driver.TopologyKey(driver.DefaultName): "node-a"}}},
			Preferred: []*csi.Topology{{Segments: map[string]string{driver.TopologyKey(driver.DefaultName): "node-a"}}},
		},
	}
	if snapshotID != "" {
		req.VolumeContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: snapshotID},
		}}
	}
	return req
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got error %v, want code %v", err, code)
	}
}

// tree describes everything under dir, one line per entry: path, type and
// mode, and the sha256 of a file's content or a symlink's target.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			line += " -> " + target
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestIdentity(t *testing.T) {
	c := start(t, "")
	info, err := c.GetPluginInfo(ctx(t), &csi.GetPluginInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetName() != driver.DefaultName || info.GetVendorVersion() == "" {
		t.Errorf("GetPluginInfo = %v", info)
	}
	if _, err := c.Probe(ctx(t), &csi.ProbeRequest{}); err != nil {
		t.Errorf("Probe: %v", err)
	}
	pc, err := c.GetPluginCapabilities(ctx(t), &csi.GetPluginCapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range pc.GetCapabilities() {
		got = append(got, c.GetService().GetType().String())
	}
	if want := "CONTROLLER_SERVICE VOLUME_ACCESSIBILITY_CONSTRAINTS"; strings.Join(got, " ") != want {
		t.Errorf("plugin capabilities %v, want %s", got, want)
	}
	cc, err := c.ControllerGetCapabilities(ctx(t), &csi.ControllerGetCapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, c := range cc.GetCapabilities() {
		got = append(got, c.GetRpc().GetType().String())
	}
	if want := "CREATE_DELETE_VOLUME CREATE_DELETE_SNAPSHOT LIST_SNAPSHOTS"; strings.Join(got, " ") != want {
		t.Errorf("controller capabilities %v, want %s", got, want)
	}
}

func TestSnapshotAndRestore(t *testing.T) {
	c := start(t, "")
	vol, err := c.CreateVolume(ctx(t), volumeRequest("pvc-1", 5<<20, ""))
	if err != nil {
		t.Fatal(err)
	}
	v := vol.GetVolume()
	if v.GetVolumeId() != "pvc-1" || v.GetCapacityBytes() != 5<<20 {
		t.Fatalf("volume %v", v)
	}
	if seg := v.GetAccessibleTopology(); len(seg) != 1 || seg[0].GetSegments()[driver.TopologyKey(driver.DefaultName)] != "node-a" {
		t.Errorf("accessible topology %v, want node-a", seg)
	}

	dir := driver.VolumeDir(c.root, v.GetVolumeId())
	write(t, filepath.Join(dir, "data.bin"), strings.Repeat("golive\x00", 10000), 0o644)
	write(t, filepath.Join(dir, "sub", "deeper", "secret"), "only me", 0o600)
	write(t, filepath.Join(dir, "run.sh"), "#!/bin/sh\n", 0o755)
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/deeper/secret", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	original := tree(t, dir)

	snap, err := c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snapshot-1", SourceVolumeId: "pvc-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := snap.GetSnapshot()
	if s.GetSnapshotId() != "snapshot-1" || s.GetSourceVolumeId() != "pvc-1" || !s.GetReadyToUse() ||
		s.GetSizeBytes() != 5<<20 || s.GetCreationTime() == nil {
		t.Fatalf("snapshot %v", s)
	}
	if _, err := os.Stat(driver.SnapshotFile(c.root, "snapshot-1")); err != nil {
		t.Fatal(err)
	}

	// Change the source afterwards: the snapshot must not follow.
	write(t, filepath.Join(dir, "data.bin"), "overwritten", 0o644)
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "new"), "new", 0o644)

	// A smaller request still gets the snapshot's size.
	restored, err := c.CreateVolume(ctx(t), volumeRequest("pvc-2", 1<<20, "snapshot-1"))
	if err != nil {
		t.Fatal(err)
	}
	r := restored.GetVolume()
	if r.GetCapacityBytes() != 5<<20 || r.GetContentSource().GetSnapshot().GetSnapshotId() != "snapshot-1" {
		t.Errorf("restored volume %v", r)
	}
	if got := tree(t, driver.VolumeDir(c.root, "pvc-2")); got != original {
		t.Errorf("restored volume differs from the snapshotted one:\n got:\n%s\nwant:\n%s", got, original)
	}
	// A limit below the snapshot's size cannot be met.
	req := volumeRequest("pvc-3", 0, "snapshot-1")
	req.CapacityRange = &csi.CapacityRange{LimitBytes: 1 << 20}
	_, err = c.CreateVolume(ctx(t), req)
	wantCode(t, err, codes.OutOfRange)

	// ListSnapshots: all, by ID, by source volume, and by pages.
	if _, err := c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snapshot-2", SourceVolumeId: "pvc-2"}); err != nil {
		t.Fatal(err)
	}
	ids := func(req *csi.ListSnapshotsRequest) (string, string) {
		t.Helper()
		resp, err := c.ListSnapshots(ctx(t), req)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range resp.GetEntries() {
			ids = append(ids, e.GetSnapshot().GetSnapshotId())
		}
		return strings.Join(ids, ","), resp.GetNextToken()
	}
	for _, tc := range []struct {
		req       *csi.ListSnapshotsRequest
		want, tok string
	}{
		{&csi.ListSnapshotsRequest{}, "snapshot-1,snapshot-2", ""},
		{&csi.ListSnapshotsRequest{SnapshotId: "snapshot-2"}, "snapshot-2", ""},
		{&csi.ListSnapshotsRequest{SnapshotId: "no-such"}, "", ""},
		{&csi.ListSnapshotsRequest{SourceVolumeId: "pvc-1"}, "snapshot-1", ""},
		{&csi.ListSnapshotsRequest{MaxEntries: 1}, "snapshot-1", "1"},
		{&csi.ListSnapshotsRequest{MaxEntries: 1, StartingToken: "1"}, "snapshot-2", ""},
	} {
		if got, tok := ids(tc.req); got != tc.want || tok != tc.tok {
			t.Errorf("ListSnapshots(%v) = %q, token %q; want %q, token %q", tc.req, got, tok, tc.want, tc.tok)
		}
	}
	_, err = c.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{StartingToken: "bogus"})
	wantCode(t, err, codes.Aborted)
}

func TestIdempotentByName(t *testing.T) {
	root := t.TempDir()
	c := start(t, root)
	first, err := c.CreateVolume(ctx(t), volumeRequest("pvc-1", 1<<20, ""))
	if err != nil {
		t.Fatal(err)
	}
	dir := driver.VolumeDir(root, "pvc-1")
	write(t, filepath.Join(dir, "keep"), "data written after creation", 0o644)

	again, err := c.CreateVolume(ctx(t), volumeRequest("pvc-1", 1<<20, ""))
	if err != nil {
		t.Fatal(err)
	}
	if again.GetVolume().String() != first.GetVolume().String() {
		t.Errorf("second CreateVolume = %v, first %v", again.GetVolume(), first.GetVolume())
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keep")); err != nil || string(b) != "data written after creation" {
		t.Errorf("second CreateVolume touched the data: %q, %v", b, err)
	}
	_, err = c.CreateVolume(ctx(t), volumeRequest("pvc-1", 2<<20, ""))
	wantCode(t, err, codes.AlreadyExists)

	s1, err := c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap", SourceVolumeId: "pvc-1"})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap", SourceVolumeId: "pvc-1"})
	if err != nil {
		t.Fatal(err)
	}
	if s1.GetSnapshot().String() != s2.GetSnapshot().String() {
		t.Errorf("second CreateSnapshot = %v, first %v", s2.GetSnapshot(), s1.GetSnapshot())
	}
	if _, err := c.CreateVolume(ctx(t), volumeRequest("pvc-2", 1<<20, "")); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap", SourceVolumeId: "pvc-2"})
	wantCode(t, err, codes.AlreadyExists)

	// A restarted driver on the same data root still knows both.
	c2 := start(t, root)
	again, err = c2.CreateVolume(ctx(t), volumeRequest("pvc-1", 1<<20, ""))
	if err != nil || again.GetVolume().String() != first.GetVolume().String() {
		t.Errorf("CreateVolume after a restart = %v, %v; want %v", again.GetVolume(), err, first.GetVolume())
	}
	s3, err := c2.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap", SourceVolumeId: "pvc-1"})
	if err != nil || s3.GetSnapshot().String() != s1.GetSnapshot().String() {
		t.Errorf("CreateSnapshot after a restart = %v, %v; want %v", s3.GetSnapshot(), err, s1.GetSnapshot())
	}
}

func TestDelete(t *testing.T) {
	c := start(t, "")
	if _, err := c.CreateVolume(ctx(t), volumeRequest("pvc-1", 1<<20, "")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(driver.VolumeDir(c.root, "pvc-1"), "f"), "content", 0o644)
	if _, err := c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap", SourceVolumeId: "pvc-1"}); err != nil {
		t.Fatal(err)
	}

	// Deleting twice succeeds twice, and the data is gone.
	for range 2 {
		if _, err := c.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{VolumeId: "pvc-1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(driver.VolumeDir(c.root, "pvc-1")); !os.IsNotExist(err) {
		t.Errorf("volume directory still there: %v", err)
	}
	_, err := c.ValidateVolumeCapabilities(ctx(t), &csi.ValidateVolumeCapabilitiesRequest{VolumeId: "pvc-1", VolumeCapabilities: mountRWO})
	wantCode(t, err, codes.NotFound)
	_, err = c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap-2", SourceVolumeId: "pvc-1"})
	wantCode(t, err, codes.NotFound)

	// A snapshot outlives its source volume.
	if _, err := c.CreateVolume(ctx(t), volumeRequest("pvc-2", 1<<20, "snap")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(driver.VolumeDir(c.root, "pvc-2"), "f")); err != nil || string(b) != "content" {
		t.Errorf("restored file: %q, %v", b, err)
	}

	for range 2 {
		if _, err := c.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{SnapshotId: "snap"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(driver.SnapshotFile(c.root, "snap")); !os.IsNotExist(err) {
		t.Errorf("snapshot file still there: %v", err)
	}
	_, err = c.CreateVolume(ctx(t), volumeRequest("pvc-3", 1<<20, "snap"))
	wantCode(t, err, codes.NotFound)
	if resp, err := c.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{}); err != nil || len(resp.GetEntries()) != 0 {
		t.Errorf("ListSnapshots after delete = %v, %v", resp, err)
	}
}

func TestInvalidRequests(t *testing.T) {
	c := start(t, "")
	block := []*csi.VolumeCapability{{
		AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
	}}
	multiNode := []*csi.VolumeCapability{{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER},
	}}
	for name, req := range map[string]*csi.CreateVolumeRequest{
		"no name":      {VolumeCapabilities: mountRWO},
		"path in name": {Name: "../escape", VolumeCapabilities: mountRWO},
		"dot name":     {Name: ".hidden", VolumeCapabilities: mountRWO},
		"no caps":      {Name: "pvc-x"},
		"block":        {Name: "pvc-x", VolumeCapabilities: block},
		"multi-node":   {Name: "pvc-x", VolumeCapabilities: multiNode},
	} {
		_, err := c.CreateVolume(ctx(t), req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("CreateVolume(%s): %v, want InvalidArgument", name, err)
		}
	}
	_, err := c.CreateVolume(ctx(t), volumeRequest("pvc-x", 1<<20, "no-such-snapshot"))
	wantCode(t, err, codes.NotFound)
	_, err = c.CreateVolume(ctx(t), volumeRequest("pvc-x", 1<<20, "../../etc"))
	wantCode(t, err, codes.NotFound)
	_, err = c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: "no-such-volume"})
	wantCode(t, err, codes.NotFound)
	_, err = c.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{})
	wantCode(t, err, codes.InvalidArgument)

	if _, err := c.CreateVolume(ctx(t), volumeRequest("pvc-1", 0, "")); err != nil {
		t.Fatal(err)
	}
	resp, err := c.ValidateVolumeCapabilities(ctx(t), &csi.ValidateVolumeCapabilitiesRequest{VolumeId: "pvc-1", VolumeCapabilities: mountRWO})
	if err != nil || resp.GetConfirmed() == nil {
		t.Errorf("ValidateVolumeCapabilities(mount, RWO) = %v, %v; want confirmed", resp, err)
	}
	resp, err = c.ValidateVolumeCapabilities(ctx(t), &csi.ValidateVolumeCapabilitiesRequest{VolumeId: "pvc-1", VolumeCapabilities: multiNode})
	if err != nil || resp.GetConfirmed() != nil || resp.GetMessage() == "" {
		t.Errorf("ValidateVolumeCapabilities(multi-node) = %v, %v; want not confirmed, with a message", resp, err)
	}
}
