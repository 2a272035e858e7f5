// Package driver is a small CSI driver for golive's end-to-end tests and demo.
//
// It implements only the Identity and Controller services, which is all that
// csi-provisioner and csi-snapshotter call: nothing is ever mounted, because a
// kwok cluster has no kubelet. A volume is a directory, a snapshot is a tar
// file of that directory, and a volume restored from a snapshot is the tar file
// unpacked into a new directory. Everything lives under one data root:
//
//	<root>/volumes/<volume-id>/               the volume's data
//	<root>/snapshots/<snapshot-id>.tar        the snapshot's data
//	<root>/meta/volume-<volume-id>.json       what the volume was created as
//	<root>/meta/snapshot-<snapshot-id>.json   what the snapshot was taken of
//
// Work in progress is written under names starting with a dot, which no ID
// can have, and renamed into place when complete.
//
// Volume and snapshot IDs are the names that the sidecars ask for (pvc-<uid>
// and snapshot-<uid>), so the PV's spec.csi.volumeHandle names the directory
// of its data, and CSI's "same name, same result" rule holds across restarts.
package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	// DefaultName is the driver name: the StorageClass's provisioner and the
	// VolumeSnapshotClass's driver.
	DefaultName = "csi.golive.dev"
	// Version is reported by GetPluginInfo.
	Version = "0.1.0"
	// defaultCapacity is used when a CreateVolume request names no size.
	defaultCapacity = 1 << 30
)

// TopologyKey is the node label (and CSINode topology key) that the driver
// name's volumes are bound to: topology.<name>/node.
func TopologyKey(name string) string { return "topology." + name + "/node" }

// VolumeDir is the directory holding the data of the volume with the given ID
// (a PV's spec.csi.volumeHandle) under the data root.
func VolumeDir(dataRoot, volumeID string) string {
	return filepath.Join(dataRoot, "volumes", volumeID)
}

// SnapshotFile is the tar file of the snapshot with the given ID (a
// VolumeSnapshotContent's status.snapshotHandle) under the data root.
func SnapshotFile(dataRoot, snapshotID string) string {
	return filepath.Join(dataRoot, "snapshots", snapshotID+".tar")
}

// Driver serves the CSI Identity and Controller services.
type Driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer

	name string
	root string

	// mu serialises every call: the driver is a test fixture, and one lock
	// makes "look up by name, else create" atomic without further thought.
	mu sync.Mutex
}

// New returns a driver called name that keeps its data under dataRoot.
func New(name, dataRoot string) (*Driver, error) {
	if name == "" {
		return nil, errors.New("driver name is empty")
	}
	root, err := filepath.Abs(dataRoot)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{filepath.Join(root, "volumes"), filepath.Join(root, "snapshots"), filepath.Join(root, "meta")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return &Driver{name: name, root: root}, nil
}

// volumeMeta is what <root>/meta/volume-<id>.json records. Its presence is what
// makes a volume exist: it is written last, after the data directory is complete.
type volumeMeta struct {
	Name          string            `json:"name"`
	CapacityBytes int64             `json:"capacityBytes"`
	SnapshotID    string            `json:"snapshotID,omitempty"`
	Topology      map[string]string `json:"topology,omitempty"`
}

// snapshotMeta is what <root>/meta/snapshot-<id>.json records, written after the tar file.
type snapshotMeta struct {
	Name           string    `json:"name"`
	SourceVolumeID string    `json:"sourceVolumeID"`
	SizeBytes      int64     `json:"sizeBytes"`
	CreationTime   time.Time `json:"creationTime"`
}

// ---- Identity ----

func (d *Driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.name, VendorVersion: Version}, nil
}

func (d *Driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	svc := func(t csi.PluginCapability_Service_Type) *csi.PluginCapability {
		return &csi.PluginCapability{Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: t}}}
	}
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{
		svc(csi.PluginCapability_Service_CONTROLLER_SERVICE),
		// Volumes are node-local, like hostPath ones: the provisioner passes
		// the node topology and the PV gets the matching node affinity.
		svc(csi.PluginCapability_Service_VOLUME_ACCESSIBILITY_CONSTRAINTS),
	}}, nil
}

func (d *Driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	if _, err := os.Stat(filepath.Join(d.root, "volumes")); err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "data root: %v", err)
	}
	return &csi.ProbeResponse{}, nil
}

// ---- Controller ----

func (d *Driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, t := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: t}},
		})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

func (d *Driver) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	id := req.GetName()
	if err := checkID("name", id); err != nil {
		return nil, err
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	capacity, err := capacityOf(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	var snapshotID string
	if src := req.GetVolumeContentSource(); src != nil {
		snap := src.GetSnapshot()
		if snap == nil {
			// CLONE_VOLUME is not advertised.
			return nil, status.Error(codes.InvalidArgument, "only snapshots are supported as a volume content source")
		}
		snapshotID = snap.GetSnapshotId()
	}

	d.mu.Lock()
	defer d.mu.Unlock()

	// Same name again: the same volume, if the request is compatible with it.
	var existing volumeMeta
	found, err := readJSON(d.volumeMetaFile(id), &existing)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "reading volume %s: %v", id, err)
	}
	if found {
		if !fits(existing.CapacityBytes, req.GetCapacityRange()) || existing.SnapshotID != snapshotID {
			return nil, status.Errorf(codes.AlreadyExists, "volume %s exists with capacity %d and source snapshot %q", id, existing.CapacityBytes, existing.SnapshotID)
		}
		return &csi.CreateVolumeResponse{Volume: d.volume(id, existing)}, nil
	}

	meta := volumeMeta{
		Name:          id,
		CapacityBytes: capacity,
		SnapshotID:    snapshotID,
		Topology:      pickTopology(req.GetAccessibilityRequirements(), TopologyKey(d.name)),
	}
	var snap snapshotMeta
	if snapshotID != "" {
		found, err := d.readSnapshot(snapshotID, &snap)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "reading snapshot %s: %v", snapshotID, err)
		}
		if !found {
			return nil, status.Errorf(codes.NotFound, "snapshot %s not found", snapshotID)
		}
		if limit := req.GetCapacityRange().GetLimitBytes(); limit > 0 && snap.SizeBytes > limit {
			return nil, status.Errorf(codes.OutOfRange, "snapshot %s needs %d bytes, the limit is %d", snapshotID, snap.SizeBytes, limit)
		}
		// A restored volume is at least as large as its snapshot.
		meta.CapacityBytes = max(meta.CapacityBytes, snap.SizeBytes)
	}

	// Build the data directory under a temporary name and rename it into
	// place, so that a crash never leaves a half-restored volume behind.
	dir := VolumeDir(d.root, id)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".new-")
	if err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	if err := d.fillVolume(tmp, dir, snapshotID); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, status.Errorf(codes.Internal, "creating volume %s: %v", id, err)
	}
	if err := writeJSON(d.volumeMetaFile(id), meta); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	return &csi.CreateVolumeResponse{Volume: d.volume(id, meta)}, nil
}

func (d *Driver) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	if checkID("volume_id", id) != nil {
		// No such ID can exist; deleting it is a success by CSI's rules.
		return &csi.DeleteVolumeResponse{}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// Metadata first: once it is gone the volume no longer exists, even if
	// removing the data is interrupted.
	if err := removeFile(d.volumeMetaFile(id)); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	if err := os.RemoveAll(VolumeDir(d.root, id)); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	return &csi.DeleteVolumeResponse{}, nil
}

func (d *Driver) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume_capabilities are required")
	}
	d.mu.Lock()
	found, err := d.volumeExists(id)
	d.mu.Unlock()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", id)
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: status.Convert(err).Message()}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext:      req.GetVolumeContext(),
		VolumeCapabilities: req.GetVolumeCapabilities(),
		Parameters:         req.GetParameters(),
	}}, nil
}

func (d *Driver) CreateSnapshot(_ context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	id := req.GetName()
	if err := checkID("name", id); err != nil {
		return nil, err
	}
	source := req.GetSourceVolumeId()
	if source == "" {
		return nil, status.Error(codes.InvalidArgument, "source_volume_id is required")
	}

	d.mu.Lock()
	defer d.mu.Unlock()

	var existing snapshotMeta
	found, err := readJSON(d.snapshotMetaFile(id), &existing)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "reading snapshot %s: %v", id, err)
	}
	if found {
		if existing.SourceVolumeID != source {
			return nil, status.Errorf(codes.AlreadyExists, "snapshot %s exists for volume %s", id, existing.SourceVolumeID)
		}
		return &csi.CreateSnapshotResponse{Snapshot: snapshotOf(id, existing)}, nil
	}

	var vol volumeMeta
	found, err = d.readVolume(source, &vol)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "reading volume %s: %v", source, err)
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", source)
	}
	// tarDir writes to a temporary file and renames it, so the tar file is
	// either complete or absent. The data is read while the lock is held;
	// whoever writes into the volume's directory meanwhile is not stopped,
	// as with any crash-consistent snapshot.
	if err := tarDir(VolumeDir(d.root, source), SnapshotFile(d.root, id)); err != nil {
		return nil, status.Errorf(codes.Internal, "snapshotting volume %s: %v", source, err)
	}
	meta := snapshotMeta{
		Name:           id,
		SourceVolumeID: source,
		// The restore size: a volume restored from it needs as much as its source had.
		SizeBytes:    vol.CapacityBytes,
		CreationTime: time.Now().UTC(),
	}
	if err := writeJSON(d.snapshotMetaFile(id), meta); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	return &csi.CreateSnapshotResponse{Snapshot: snapshotOf(id, meta)}, nil
}

func (d *Driver) DeleteSnapshot(_ context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	id := req.GetSnapshotId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot_id is required")
	}
	if checkID("snapshot_id", id) != nil {
		return &csi.DeleteSnapshotResponse{}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := removeFile(d.snapshotMetaFile(id)); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	if err := removeFile(SnapshotFile(d.root, id)); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	return &csi.DeleteSnapshotResponse{}, nil
}

func (d *Driver) ListSnapshots(_ context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	var ids []string
	if id := req.GetSnapshotId(); id != "" {
		ids = []string{id}
	} else {
		paths, err := filepath.Glob(filepath.Join(d.root, "meta", "snapshot-*.json"))
		if err != nil {
			return nil, status.Errorf(codes.Internal, "%v", err)
		}
		for _, p := range paths {
			name := filepath.Base(p)
			ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(name, "snapshot-"), ".json"))
		}
		sort.Strings(ids) // stable order for the pagination token
	}
	var entries []*csi.ListSnapshotsResponse_Entry
	for _, id := range ids {
		var meta snapshotMeta
		found, err := d.readSnapshot(id, &meta)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "%v", err)
		}
		if !found || (req.GetSourceVolumeId() != "" && meta.SourceVolumeID != req.GetSourceVolumeId()) {
			continue
		}
		entries = append(entries, &csi.ListSnapshotsResponse_Entry{Snapshot: snapshotOf(id, meta)})
	}

	// The token is the index of the next entry.
	start := 0
	if tok := req.GetStartingToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(entries) {
			return nil, status.Errorf(codes.Aborted, "invalid starting_token %q", tok)
		}
		start = n
	}
	if req.GetMaxEntries() < 0 {
		return nil, status.Error(codes.InvalidArgument, "max_entries must not be negative")
	}
	end := len(entries)
	next := ""
	if m := int(req.GetMaxEntries()); m > 0 && start+m < end {
		end = start + m
		next = strconv.Itoa(end)
	}
	return &csi.ListSnapshotsResponse{Entries: entries[start:end], NextToken: next}, nil
}

// ---- helpers ----

// fillVolume makes the staging directory tmp the volume's directory dir:
// unpacks the snapshot into it, if any, and renames it into place.
func (d *Driver) fillVolume(tmp, dir, snapshotID string) error {
	// MkdirTemp made it 0700; a volume is world-readable like a fresh mkdir.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if snapshotID != "" {
		if err := untarFile(SnapshotFile(d.root, snapshotID), tmp); err != nil {
			return fmt.Errorf("restoring snapshot %s: %w", snapshotID, err)
		}
	}
	// A directory left by an earlier attempt that never got its metadata.
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

func (d *Driver) volumeMetaFile(id string) string {
	return filepath.Join(d.root, "meta", "volume-"+id+".json")
}

func (d *Driver) snapshotMetaFile(id string) string {
	return filepath.Join(d.root, "meta", "snapshot-"+id+".json")
}

// readVolume reads a volume's metadata; an ID that cannot exist is not found.
func (d *Driver) readVolume(id string, meta *volumeMeta) (bool, error) {
	if checkID("volume_id", id) != nil {
		return false, nil
	}
	return readJSON(d.volumeMetaFile(id), meta)
}

// readSnapshot reads a snapshot's metadata; an ID that cannot exist is not found.
func (d *Driver) readSnapshot(id string, meta *snapshotMeta) (bool, error) {
	if checkID("snapshot_id", id) != nil {
		return false, nil
	}
	return readJSON(d.snapshotMetaFile(id), meta)
}

func (d *Driver) volumeExists(id string) (bool, error) {
	var meta volumeMeta
	return d.readVolume(id, &meta)
}

func (d *Driver) volume(id string, meta volumeMeta) *csi.Volume {
	v := &csi.Volume{VolumeId: id, CapacityBytes: meta.CapacityBytes}
	if meta.SnapshotID != "" {
		v.ContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: meta.SnapshotID},
		}}
	}
	if len(meta.Topology) > 0 {
		v.AccessibleTopology = []*csi.Topology{{Segments: meta.Topology}}
	}
	return v
}

func snapshotOf(id string, meta snapshotMeta) *csi.Snapshot {
	return &csi.Snapshot{
		SnapshotId:     id,
		SourceVolumeId: meta.SourceVolumeID,
		SizeBytes:      meta.SizeBytes,
		CreationTime:   timestamppb.New(meta.CreationTime),
		ReadyToUse:     true, // the tar file is complete when CreateSnapshot returns
	}
}

// idPattern keeps IDs usable as file names: no separators, no "." or "..".
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkID(field, id string) error {
	if id == "" {
		return status.Errorf(codes.InvalidArgument, "%s is required", field)
	}
	if !idPattern.MatchString(id) {
		return status.Errorf(codes.InvalidArgument, "%s %q must match %s", field, id, idPattern)
	}
	return nil
}

// checkCapabilities accepts filesystem volumes with single-node access modes:
// the data is a directory on one machine, and there is no block device.
func checkCapabilities(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume_capabilities are required")
	}
	for _, c := range caps {
		if c.GetMount() == nil {
			return status.Error(codes.InvalidArgument, "only the mount access type is supported")
		}
		switch c.GetAccessMode().GetMode() {
		case csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER:
		default:
			return status.Errorf(codes.InvalidArgument, "access mode %v is not supported", c.GetAccessMode().GetMode())
		}
	}
	return nil
}

// capacityOf is the size to report: the required bytes, else the limit, else a default.
func capacityOf(r *csi.CapacityRange) (int64, error) {
	req, limit := r.GetRequiredBytes(), r.GetLimitBytes()
	if req < 0 || limit < 0 {
		return 0, status.Error(codes.InvalidArgument, "capacity_range must not be negative")
	}
	if limit > 0 && req > limit {
		return 0, status.Errorf(codes.OutOfRange, "required_bytes %d exceed limit_bytes %d", req, limit)
	}
	switch {
	case req > 0:
		return req, nil
	case limit > 0:
		return min(limit, defaultCapacity), nil
	default:
		return defaultCapacity, nil
	}
}

// fits tells whether an existing volume of the given size satisfies r.
func fits(capacity int64, r *csi.CapacityRange) bool {
	if req := r.GetRequiredBytes(); req > 0 && capacity < req {
		return false
	}
	if limit := r.GetLimitBytes(); limit > 0 && capacity > limit {
		return false
	}
	return true
}

// pickTopology returns the first preferred (else requisite) segment of the
// requirement, reduced to the driver's own key; nil without a requirement.
func pickTopology(req *csi.TopologyRequirement, key string) map[string]string {
	for _, t := range append(req.GetPreferred(), req.GetRequisite()...) {
		if v, ok := t.GetSegments()[key]; ok {
			return map[string]string{key: v}
		}
	}
	return nil
}

func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// writeJSON writes through a temporary file and a rename: readers see the old
// file or the new one, never a torn one.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomically(path, func(f *os.File) error {
		_, err := f.Write(b)
		return err
	})
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
