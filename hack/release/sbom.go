package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// spdxMediaType is the SBOM's artifact type and its layer's media type.
	spdxMediaType types.MediaType = "application/spdx+json"
	// emptyMediaType and emptyJSON are OCI 1.1's empty config of artifacts.
	emptyMediaType types.MediaType = "application/vnd.oci.empty.v1+json"
	emptyJSON                      = "{}"
)

// The parts of an SPDX 2.3 document the SBOM fills in.
type (
	spdxDocument struct {
		SPDXVersion       string             `json:"spdxVersion"`
		DataLicense       string             `json:"dataLicense"`
		SPDXID            string             `json:"SPDXID"`
		Name              string             `json:"name"`
		DocumentNamespace string             `json:"documentNamespace"`
		CreationInfo      spdxCreationInfo   `json:"creationInfo"`
		Packages          []spdxPackage      `json:"packages"`
		Relationships     []spdxRelationship `json:"relationships"`
	}
	spdxCreationInfo struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	}
	spdxPackage struct {
		Name             string            `json:"name"`
		SPDXID           string            `json:"SPDXID"`
		VersionInfo      string            `json:"versionInfo"`
		DownloadLocation string            `json:"downloadLocation"`
		FilesAnalyzed    bool              `json:"filesAnalyzed"`
		LicenseConcluded string            `json:"licenseConcluded"`
		LicenseDeclared  string            `json:"licenseDeclared"`
		CopyrightText    string            `json:"copyrightText"`
		Checksums        []spdxChecksum    `json:"checksums,omitempty"`
		ExternalRefs     []spdxExternalRef `json:"externalRefs"`
	}
	spdxChecksum struct {
		Algorithm     string `json:"algorithm"`
		ChecksumValue string `json:"checksumValue"`
	}
	spdxExternalRef struct {
		ReferenceCategory string `json:"referenceCategory"`
		ReferenceType     string `json:"referenceType"`
		ReferenceLocator  string `json:"referenceLocator"`
	}
	spdxRelationship struct {
		SPDXElementID      string `json:"spdxElementId"`
		RelationshipType   string `json:"relationshipType"`
		RelatedSPDXElement string `json:"relatedSpdxElement"`
	}
)

// spdxFor is an SPDX document of the binary: the golive module (with the
// binary's sha256), the Go standard library and every module the binary was
// linked from, with their versions, as the Go toolchain recorded them in the
// binary. It names no licenses: NOASSERTION, as SPDX asks when a tool did
// not look.
func spdxFor(path string, platform v1.Platform, meta buildMeta) ([]byte, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, err
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(content)
	name := fmt.Sprintf("golive-%s-%s-%s", meta.Version, platform.OS, platform.Architecture)
	pkg := func(id, name, version string, checksums []spdxChecksum) spdxPackage {
		purl := "pkg:golang/" + name + "@" + version
		return spdxPackage{
			Name: name, SPDXID: id, VersionInfo: version,
			DownloadLocation: "NOASSERTION", LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION",
			CopyrightText: "NOASSERTION", Checksums: checksums,
			ExternalRefs: []spdxExternalRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: purl}},
		}
	}
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3",
		DataLicense: "CC0-1.0",
		SPDXID:      "SPDXRef-DOCUMENT",
		Name:        name,
		// Unique per binary, and the same for the same binary.
		DocumentNamespace: source + "/spdx/" + name + "-" + hex.EncodeToString(sum[:]),
		CreationInfo: spdxCreationInfo{
			Created:  meta.Created.Format(time.RFC3339),
			Creators: []string{"Tool: golive-hack-release", "Organization: golive"},
		},
		Packages: []spdxPackage{
			pkg("SPDXRef-Package-golive", info.Main.Path, meta.Version, []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: hex.EncodeToString(sum[:])}}),
			pkg("SPDXRef-Package-stdlib", "stdlib", info.GoVersion, nil),
		},
		Relationships: []spdxRelationship{
			{SPDXElementID: "SPDXRef-DOCUMENT", RelationshipType: "DESCRIBES", RelatedSPDXElement: "SPDXRef-Package-golive"},
			{SPDXElementID: "SPDXRef-Package-golive", RelationshipType: "DEPENDS_ON", RelatedSPDXElement: "SPDXRef-Package-stdlib"},
		},
	}
	for i, dep := range info.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		id := fmt.Sprintf("SPDXRef-Package-%d", i)
		doc.Packages = append(doc.Packages, pkg(id, dep.Path, dep.Version, nil))
		doc.Relationships = append(doc.Relationships, spdxRelationship{SPDXElementID: "SPDXRef-Package-golive", RelationshipType: "DEPENDS_ON", RelatedSPDXElement: id})
	}
	return json.MarshalIndent(doc, "", "  ")
}

// sbomFor is the SPDX document of the binary as an OCI artifact whose subject
// is the image: registries list it among the image's referrers.
func sbomFor(b binary, img v1.Image, meta buildMeta) (v1.Image, error) {
	document, err := spdxFor(b.Path, b.Platform, meta)
	if err != nil {
		return nil, err
	}
	subject, err := partial.Descriptor(img)
	if err != nil {
		return nil, err
	}
	subject = &v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest}
	config := static.NewLayer([]byte(emptyJSON), emptyMediaType)
	layer := static.NewLayer(document, spdxMediaType)
	descriptor := func(l v1.Layer) (v1.Descriptor, error) {
		digest, err := l.Digest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		size, err := l.Size()
		if err != nil {
			return v1.Descriptor{}, err
		}
		mediaType, err := l.MediaType()
		return v1.Descriptor{MediaType: mediaType, Size: size, Digest: digest}, err
	}
	configDescriptor, err := descriptor(config)
	if err != nil {
		return nil, err
	}
	layerDescriptor, err := descriptor(layer)
	if err != nil {
		return nil, err
	}
	layerDescriptor.Annotations = map[string]string{"org.opencontainers.image.title": "golive.spdx.json"}
	manifest, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  string(spdxMediaType),
		Config:        configDescriptor,
		Layers:        []v1.Descriptor{layerDescriptor},
		Subject:       subject,
		Annotations:   meta.annotations(),
	})
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifact{manifest: manifest, config: []byte(emptyJSON), blobs: []v1.Layer{config, layer}})
}

// artifact is an OCI artifact from its manifest and blobs; as a v1.Image it
// is written to a layout and pushed like any image.
type artifact struct {
	manifest []byte
	config   []byte
	blobs    []v1.Layer
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return a.config, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }

func (a *artifact) LayerByDigest(digest v1.Hash) (partial.CompressedLayer, error) {
	for _, blob := range a.blobs {
		d, err := blob.Digest()
		if err != nil {
			return nil, err
		}
		if d == digest {
			return blob, nil
		}
	}
	return nil, fmt.Errorf("the artifact has no blob %s", digest)
}
