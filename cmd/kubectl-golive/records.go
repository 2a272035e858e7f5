package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/records"
	recordarchive "github.com/golive-dev/golive/internal/records/archive"
	"github.com/golive-dev/golive/internal/report"
)

// defaultArchiveNamespace is golive's archive namespace unless the
// installation chose another (the chart's records.archiveNamespace).
const defaultArchiveNamespace = "golive-system"

// The files of an export.
const (
	exportRecordsFile = "records.json"
	exportKeysFile    = "public-keys.pem"
)

type recordsOptions struct {
	*rootOptions
	archive      string
	since, until string
	output       string
	export       string
}

func newRecordsCommand(o *rootOptions) *cobra.Command {
	r := &recordsOptions{rootOptions: o}
	cmd := &cobra.Command{
		Use:   "records",
		Short: "List or export the ReleaseRecords golive wrote when requests ended",
		Long: `List the ReleaseRecords golive keeps in its archive namespace: one per update
request, written when the request ended (or was deleted before it ended),
signed with golive's key and chained per source namespace. With -n only the
records of requests of that namespace, else of all; --since and --until keep
those that ended in that time (RFC 3339, a date, or a duration before now
such as 720h). With --export DIR the records are written into DIR as one
JSON file (records.json, which verify-records checks), a Markdown report per
record, and the published public keys (public-keys.pem).`,
		Example: `  kubectl golive records
  kubectl golive records -n billing --since 2026-01-01 --until 2026-04-01
  kubectl golive records -n billing --export audit-2026-q1/
  kubectl golive verify-records audit-2026-q1/records.json --keys audit-2026-q1/public-keys.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if r.output != "" && r.output != "json" && r.output != "yaml" {
				return fmt.Errorf("-o %s: records prints json or yaml", r.output)
			}
			now := o.clock.Now()
			since, err := parseTimeFlag("--since", r.since, now)
			if err != nil {
				return err
			}
			until, err := parseTimeFlag("--until", r.until, now)
			if err != nil {
				return err
			}
			source := ""
			if cmd.Flags().Changed("namespace") {
				if source, err = o.namespace(); err != nil {
					return err
				}
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			archived, err := listRecords(cmd.Context(), c, r.archive, source, since, until)
			if err != nil {
				return err
			}
			switch {
			case r.export != "":
				return exportRecords(cmd.Context(), c, r.archive, r.export, archived, now, o.streams.Out)
			case r.output != "":
				return printRecords(o.streams.Out, r.output, archived)
			case len(archived) == 0:
				_, err := fmt.Fprintf(o.streams.ErrOut, "No ReleaseRecords found in namespace %s.\n", r.archive)
				return err
			}
			return writeRecordsTable(o.streams.Out, archived)
		},
	}
	cmd.Flags().StringVar(&r.archive, "archive-namespace", defaultArchiveNamespace, "The namespace golive keeps its ReleaseRecords in.")
	cmd.Flags().StringVar(&r.since, "since", "", "Only records of requests that ended at or after this time (RFC 3339, YYYY-MM-DD, or a duration before now).")
	cmd.Flags().StringVar(&r.until, "until", "", "Only records of requests that ended before this time (RFC 3339, YYYY-MM-DD, or a duration before now).")
	cmd.Flags().StringVarP(&r.output, "output", "o", "", "Print the records as a ReleaseRecordList: json or yaml.")
	cmd.Flags().StringVar(&r.export, "export", "", "Write the records, a Markdown report of each and the public keys into this folder.")
	return cmd
}

// parseTimeFlag reads an RFC 3339 time, a date (midnight UTC) or a duration before now; zero when empty.
func parseTimeFlag(flag, value string, now time.Time) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, value); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(value); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time, a date YYYY-MM-DD or a duration such as 720h", flag, value)
}

// listRecords reads the records of archive, of source's requests (all when
// empty) that ended in [since, until), in chain order per source namespace.
func listRecords(ctx context.Context, c client.Client, archive, source string, since, until time.Time) ([]records.Archived, error) {
	listed, err := recordarchive.List(ctx, c, archive, source)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(listed, func(a records.Archived) bool {
		ended := a.EndedAt()
		return (!since.IsZero() && ended.Before(since)) || (!until.IsZero() && !ended.Before(until))
	}), nil
}

// recordList is archived as a ReleaseRecordList, each record as the API server returned it.
func recordList(archived []records.Archived) *unstructured.UnstructuredList {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(golivev1alpha1.GroupVersion.WithKind("ReleaseRecordList"))
	for _, a := range archived {
		item := a.Object.DeepCopy()
		item.SetGroupVersionKind(golivev1alpha1.GroupVersion.WithKind("ReleaseRecord"))
		item.SetManagedFields(nil)
		list.Items = append(list.Items, *item)
	}
	return list
}

func printRecords(out io.Writer, format string, archived []records.Archived) error {
	data, err := json.MarshalIndent(recordList(archived), "", "    ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return err
		}
	} else {
		data = append(data, '\n')
	}
	_, err = out.Write(data)
	return err
}

func writeRecordsTable(out io.Writer, archived []records.Archived) error {
	tw := printers.GetNewTabWriter(out)
	fmt.Fprintln(tw, "SOURCE\tREQUEST\tRELEASE\tOUTCOME\t#\tENDED\tRECORD")
	for _, a := range archived {
		spec := &a.Record.Spec
		outcome := string(spec.Outcome.Phase)
		if spec.Outcome.Deleted && !spec.Outcome.Ended {
			outcome = "Deleted in " + outcome
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", spec.Request.Namespace, spec.Request.Name, oneLine(orDash(spec.Request.Release)),
			outcome, spec.Chain.Sequence, a.EndedAt().UTC().Format(time.RFC3339), a.Object.GetName())
	}
	return tw.Flush()
}

// exportRecords writes archived into dir: records.json, a report per
// record, and the published public keys when they can be read.
func exportRecords(ctx context.Context, c client.Client, archive, dir string, archived []records.Archived, now time.Time, out io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var all bytes.Buffer
	if err := printRecords(&all, "json", archived); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, exportRecordsFile), all.Bytes(), 0o644); err != nil {
		return err
	}
	for _, a := range archived {
		var markdown bytes.Buffer
		if err := writeRecordReport(&markdown, a, now); err != nil {
			return fmt.Errorf("writing the report of %s: %w", a.Object.GetName(), err)
		}
		if err := os.WriteFile(filepath.Join(dir, a.Object.GetName()+".md"), markdown.Bytes(), 0o644); err != nil {
			return err
		}
	}
	keysNote := ""
	var keys corev1.ConfigMap
	err := c.Get(ctx, client.ObjectKey{Namespace: archive, Name: "golive-record-key"}, &keys)
	switch {
	case err == nil:
		var pems []string
		for _, name := range slices.Sorted(maps.Keys(keys.Data)) {
			pems = append(pems, keys.Data[name])
		}
		if err := os.WriteFile(filepath.Join(dir, exportKeysFile), []byte(strings.Join(pems, "")), 0o644); err != nil {
			return err
		}
		keysNote = ", the public keys in " + exportKeysFile
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
		keysNote = "; the public keys (ConfigMap golive-record-key) could not be read: " + err.Error()
	default:
		return err
	}
	_, err = fmt.Fprintf(out, "Exported %d records to %s: %s, %d reports%s.\n", len(archived), dir, exportRecordsFile, len(archived), keysNote)
	return err
}

// writeRecordReport writes the report of a recorded request, then what the record itself says.
func writeRecordReport(out io.Writer, a records.Archived, generated time.Time) error {
	return report.WriteRecord(out, a.Record, generated)
}

func newVerifyRecordsCommand(o *rootOptions) *cobra.Command {
	var keysFile string
	cmd := &cobra.Command{
		Use:   "verify-records FILE --keys KEYS",
		Short: "Check the signatures and the chains of exported ReleaseRecords, offline",
		Long: `Check, without a cluster, every record of FILE (records.json of
records --export, or the output of records -o json): that golive's signature
matches its content, with the public keys of KEYS (PEM, or ConfigMap
golive-record-key as YAML or JSON), and that each namespace's records form an
unbroken chain, each holding the digest of the one before. Names each record
that is missing, altered, reordered or duplicated, and fails if any is.
Get the public keys from a source you trust, not only from the cluster the
records come from.`,
		Example: `  kubectl golive verify-records audit/records.json --keys audit/public-keys.pem`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keysFile == "" {
				return errors.New("--keys is required: the public keys that verify the records")
			}
			keyData, err := os.ReadFile(keysFile)
			if err != nil {
				return err
			}
			keys, err := records.ParsePublicKeys(keyData)
			if err != nil {
				return fmt.Errorf("%s: %w", keysFile, err)
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			stored, err := readStoredRecords(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			verified := records.Verify(stored, keys)
			for _, problem := range verified.Problems {
				fmt.Fprintf(o.streams.Out, "%s: %s\n", problem.Kind, problem.Message)
			}
			fmt.Fprintln(o.streams.Out, verified.Summary())
			if len(verified.Problems) > 0 {
				return fmt.Errorf("%d of the records' signatures or links do not hold", len(verified.Problems))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keysFile, "keys", "", "File of the public keys: PEM blocks, or ConfigMap golive-record-key as YAML or JSON.")
	return cmd
}

// readStoredRecords reads a list of records (JSON or YAML) as they are, in
// the file's order.
func readStoredRecords(data []byte) ([]records.Stored, error) {
	// JSON is read as it is: converting it would re-encode what the signatures cover.
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
		converted, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, err
		}
		data = converted
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec json.RawMessage `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("not a list of ReleaseRecords: %w", err)
	}
	stored := make([]records.Stored, 0, len(list.Items))
	for _, item := range list.Items {
		stored = append(stored, records.Stored{Name: item.Metadata.Name, Spec: item.Spec})
	}
	return stored, nil
}

// reportOfRecord writes the report of the ReleaseRecord name in archive.
func reportOfRecord(ctx context.Context, c client.Client, archive, name string, out io.Writer, now time.Time) error {
	object := &unstructured.Unstructured{}
	object.SetGroupVersionKind(golivev1alpha1.GroupVersion.WithKind("ReleaseRecord"))
	if err := c.Get(ctx, client.ObjectKey{Namespace: archive, Name: name}, object); err != nil {
		return err
	}
	a, err := records.ReadArchived(object)
	if err != nil {
		return err
	}
	return writeRecordReport(out, a, now)
}
